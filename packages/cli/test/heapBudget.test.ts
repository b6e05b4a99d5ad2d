import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as HeapBudget from "../src/HeapBudget.js"

const MB = 1024 * 1024

describe("HeapBudget", () => {
  it("is due past grow x live + slack, and never below the floor", () => {
    expect(HeapBudget.due(95 * MB, 0)).toBe(false) // under the 96 MiB floor
    expect(HeapBudget.due(97 * MB, 0)).toBe(true)
    expect(HeapBudget.due(100 * MB, 48 * MB)).toBe(false) // 1.5 x 48 + 32 = 104
    expect(HeapBudget.due(105 * MB, 48 * MB)).toBe(true)
    expect(HeapBudget.due(10 * MB, 2 * MB, { floor: 0, grow: 2, slack: 5 * MB })).toBe(true)
    expect(HeapBudget.due(9 * MB, 2 * MB, { floor: 0, grow: 2, slack: 5 * MB })).toBe(false)
  })

  it("is off when B3_HEAP_BUDGET=off", () => {
    expect(HeapBudget.start({}, { B3_HEAP_BUDGET: "off" })).toBeUndefined()
  })

  it("collects a process's garbage and returns the heap to what is live", () => {
    // a fresh process: the flag it sets and the collections it asks for stay out of the test runner
    const module = fileURLToPath(new URL("../src/HeapBudget.ts", import.meta.url))
    const script = `
      const HeapBudget = await import(${JSON.stringify(module)})
      const budget = HeapBudget.start({ intervalMs: 5, floor: 8 * 1024 * 1024, slack: 4 * 1024 * 1024 })
      if (budget === undefined) throw new Error("no budget")
      let keep = []
      for (let round = 0; round < 40; round++) {
        let garbage = []
        for (let i = 0; i < 200000; i++) garbage.push({ i, s: "x" + i })
        keep.push(garbage.length)
        garbage = undefined
        await new Promise((r) => setTimeout(r, 10))
      }
      budget.stop()
      console.log(JSON.stringify(budget.stats()))
    `
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, B3_HEAP_BUDGET: "" }
    })
    expect(run.stderr).toBe("")
    const stats = JSON.parse(run.stdout.trim()) as { collections: number; ms: number; liveBytes: number }
    expect(stats.collections).toBeGreaterThan(0)
    expect(stats.liveBytes).toBeGreaterThan(0)
    expect(stats.liveBytes).toBeLessThan(16 * MB)
  })
})
