import { isCheckpoint, ManifestCheckpoint } from "@b3-pipeline/core/Manifest"
import { assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as FC from "effect/FastCheck"
import * as Schema from "effect/Schema"

const bySchema = Schema.is(ManifestCheckpoint)
const valid = Arbitrary.make(ManifestCheckpoint)

/** Paths to every value inside `u` (objects and arrays), to damage one of them. */
const paths = (u: unknown, at: ReadonlyArray<string> = []): Array<ReadonlyArray<string>> =>
  typeof u === "object" && u !== null ?
    [at, ...Object.entries(u).flatMap(([k, v]) => paths(v, [...at, k]))] :
    [at]

const setAt = (u: unknown, at: ReadonlyArray<string>, value: unknown): unknown => {
  const [head, ...rest] = at
  if (head === undefined) return value
  if (Array.isArray(u)) return u.map((v, i) => (String(i) === head ? setAt(v, rest, value) : v))
  if (typeof u === "object" && u !== null) {
    return { ...u, [head]: setAt((u as Record<string, unknown>)[head], rest, value) }
  }
  return u
}

const odd = FC.constantFrom<unknown>(null, 0, 1, 2, "", "x", [], {}, true, [1], { version: 1 })

describe("Manifest checkpoint (isCheckpoint, the daily path's decoder)", () => {
  it("accepts every checkpoint the schema generates", () => {
    FC.assert(FC.property(valid, (c) => isCheckpoint(c) && bySchema(c)), { numRuns: 300 })
  })

  it("agrees with Schema.is on checkpoints with one value replaced anywhere", () => {
    const damaged = valid.chain((c) => {
      const all = paths(c)
      return FC.tuple(FC.constantFrom(...all), odd).map(([at, value]) => setAt(c, at, value))
    })
    let rejected = 0
    FC.assert(
      FC.property(damaged, (u) => {
        const expected = bySchema(u)
        if (!expected) rejected++
        return isCheckpoint(u) === expected
      }),
      { numRuns: 1000 }
    )
    // the damage did reach the checks: most damaged values are not checkpoints
    assert.isAbove(rejected, 500)
  })
})
