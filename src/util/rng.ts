/**
 * Seeded, reproducible random numbers. Every random draw in rtd (masking, sampling,
 * shuffling, initialisation) comes from an Rng derived from (seed, purpose, counter...), so a
 * resumed run sees the same numbers as an uninterrupted one without saving generator state.
 *
 * Generator: xoshiro128** (32-bit state words, fast in JS), seeded through splitmix32 mixing.
 */

/** 32-bit mix of a string and integers (FNV-1a over the pieces, then a murmur3 finaliser). */
function mix(parts: (string | number)[]): number {
  let h = 0x811c9dc5
  for (const p of parts) {
    const s = typeof p === 'number' ? `#${p}` : `$${p}`
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0
    let z = a
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class Rng {
  private s: Uint32Array

  private constructor(state: Uint32Array) {
    this.s = state
  }

  /**
   * A generator determined by its key, e.g. `Rng.derive(seed, 'mask', step)`. Different keys
   * give independent streams; the same key always gives the same stream.
   */
  static derive(...key: (string | number)[]): Rng {
    const sm = splitmix32(mix(key))
    const s = new Uint32Array([sm(), sm(), sm(), sm()])
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1
    return new Rng(s)
  }

  /** Serialisable state (for checkpoints of generators that are not re-derivable). */
  getState(): number[] {
    return [...this.s]
  }

  static fromState(state: number[]): Rng {
    if (state.length !== 4) throw new Error(`Rng state must have 4 words, got ${state.length}`)
    return new Rng(Uint32Array.from(state))
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0
    const t = s[1] << 9
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5 // 27 bits
    const lo = this.nextUint32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform integer in [0, n), unbiased. */
  int(n: number): number {
    if (!(n > 0) || n > 0x100000000 || !Number.isInteger(n)) throw new RangeError(`Rng.int needs an integer 1..2^32, got ${n}`)
    const limit = 0x100000000 - (0x100000000 % n)
    let x = this.nextUint32()
    while (x >= limit) x = this.nextUint32()
    return x % n
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0
    while (u === 0) u = this.uniform()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform())
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = a[i]
      a[i] = a[j]
      a[j] = t as never
    }
    return a
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
