import { describe, expect, it } from "@effect/vitest"
import { Lru } from "../src/internal/lru.js"

describe("Lru", () => {
  it("keeps the most recently used entries up to its capacity", () => {
    const lru = new Lru<string, number>(2)
    lru.set("a", 1).set("b", 2)
    expect(lru.get("a")).toBe(1) // a is now the most recent
    lru.set("c", 3) // b goes
    expect(lru.get("b")).toBeUndefined()
    expect(lru.get("a")).toBe(1)
    expect(lru.get("c")).toBe(3)
    expect(lru.size).toBe(2)
    lru.set("a", 10) // an update counts as a use
    lru.set("d", 4) // c goes
    expect(lru.has("c")).toBe(false)
    expect(lru.get("a")).toBe(10)
    expect(lru.delete("a")).toBe(true)
    expect(lru.size).toBe(1)
  })

  it("refuses a capacity under 1", () => {
    expect(() => new Lru(0)).toThrow(RangeError)
  })
})
