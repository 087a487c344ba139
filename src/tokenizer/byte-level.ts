/** GPT-2's reversible byte <-> printable-unicode table (HF ByteLevel `bytes_char`). */
function buildTable(): string[] {
  const bs: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b)
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b)
  for (let b = 0xae; b <= 0xff; b++) bs.push(b)
  const cs = [...bs]
  let n = 0
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++ }
  }
  const table: string[] = new Array(256)
  for (let i = 0; i < bs.length; i++) table[bs[i]] = String.fromCodePoint(cs[i])
  return table
}

export const BYTES_TO_UNICODE: readonly string[] = buildTable()
export const UNICODE_TO_BYTES: ReadonlyMap<string, number> = new Map(BYTES_TO_UNICODE.map((c, b) => [c, b]))
