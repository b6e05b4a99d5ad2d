/**
 * A map that keeps its `capacity` most recently used entries (a `Map`'s insertion order is the
 * recency order: a hit is moved to the end, the first entry goes first). The adapters' caches of
 * stats, hashes and decoded files use it so that a long process (a year's backfill) holds the
 * entries of the dates it is working on, not one entry per object of the history.
 *
 * @since 0.1.0
 */
export class Lru<K, V> {
  readonly #entries = new Map<K, V>()
  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`Lru: capacity must be at least 1, got ${capacity}`)
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key)
    if (value !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, value)
    }
    return value
  }

  has(key: K): boolean {
    return this.get(key) !== undefined
  }

  set(key: K, value: V): this {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    return this
  }

  delete(key: K): boolean {
    return this.#entries.delete(key)
  }
}
