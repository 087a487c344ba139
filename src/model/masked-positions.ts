/** Flat row indices (b·N + i) of the masked tokens in row-major order, and their count M. */
export function maskedPositions(mlmMask: Int32Array | Uint8Array): Int32Array {
  const out: number[] = []
  for (let k = 0; k < mlmMask.length; k++) if (mlmMask[k]) out.push(k)
  return Int32Array.from(out)
}
