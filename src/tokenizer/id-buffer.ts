/** Growable Int32Array so encoding does not allocate per token. */
export class IdBuffer {
  data = new Int32Array(1024)
  length = 0

  push(id: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = id
  }

  pushAll(ids: Int32Array): void {
    if (this.length + ids.length > this.data.length) {
      const next = new Int32Array(Math.max(this.data.length * 2, this.length + ids.length))
      next.set(this.data.subarray(0, this.length))
      this.data = next
    }
    this.data.set(ids, this.length)
    this.length += ids.length
  }

  /** A copy of the ids pushed so far; resets the buffer. */
  take(): Int32Array {
    const out = this.data.slice(0, this.length)
    this.length = 0
    return out
  }
}
