import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import {
  CheckpointDelta,
  isCheckpoint,
  isCheckpointDelta,
  ManifestCheckpoint,
  rawStateOf,
  replaceDates
} from "@b3-pipeline/core/Manifest"
import type { RawState } from "@b3-pipeline/core/Manifest"
import { RAW_PREFIX, rawParquetKey } from "@b3-pipeline/core/Tables"
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

/**
 * `is` and `Schema.is(schema)` agree on values damaged at one place (`numRuns` of them), and the
 * damage reached the checks: more than `minRejected` of those values are rejected.
 */
const agreesOnDamaged = <A, I>(
  schema: Schema.Schema<A, I>,
  is: (u: unknown) => boolean,
  minRejected: number
) => {
  const bySchemaIs = Schema.is(schema)
  const damaged = Arbitrary.make(schema).chain((c) =>
    FC.tuple(FC.constantFrom(...paths(c)), odd).map(([at, value]) => setAt(c, at, value))
  )
  let rejected = 0
  FC.assert(
    FC.property(damaged, (u) => {
      const expected = bySchemaIs(u)
      if (!expected) rejected++
      return is(u) === expected
    }),
    { numRuns: 1000 }
  )
  assert.isAbove(rejected, minRejected)
}

describe("Manifest checkpoint (isCheckpoint, the daily path's decoder)", () => {
  it("accepts every checkpoint the schema generates", () => {
    FC.assert(FC.property(valid, (c) => isCheckpoint(c) && bySchema(c)), { numRuns: 300 })
  })

  it("agrees with Schema.is on checkpoints with one value replaced anywhere", () => {
    // the damage did reach the checks: most damaged values are not checkpoints
    agreesOnDamaged(ManifestCheckpoint, isCheckpoint, 500)
  })
})

describe("Checkpoint log deltas (isCheckpointDelta)", () => {
  it("agrees with Schema.is on deltas, whole and with one value replaced anywhere", () => {
    const byDeltaSchema = Schema.is(CheckpointDelta)
    FC.assert(
      FC.property(Arbitrary.make(CheckpointDelta), (c) => isCheckpointDelta(c) && byDeltaSchema(c)),
      { numRuns: 300 }
    )
    agreesOnDamaged(CheckpointDelta, isCheckpointDelta, 400)
  })
})

/** A raw state as plain sorted data, to compare two states whatever their maps' insertion order. */
const plain = (raw: RawState) => ({
  byDate: [...raw.byDate].sort(([a], [b]) => (a < b ? -1 : 1)),
  byIndex: [...raw.byIndex].sort(([a], [b]) => (a < b ? -1 : 1))
})

describe("replaceDates (the daily path's raw state, patched instead of rebuilt)", () => {
  const DATES = ["2025-04-28", "2025-04-29", "2025-04-30", "2025-05-02", "2025-05-05", "2025-05-06"]
  const CODES = ["IBOV", "SMLL", "IDIV", "IBXX"]
  // a listing: raw keys of some (date, index) pairs with an etag, plus keys that are not raw objects
  const listing = FC.array(
    FC.oneof(
      { arbitrary: FC.tuple(FC.constantFrom(...DATES), FC.constantFrom(...CODES), FC.nat(3)), weight: 9 },
      { arbitrary: FC.constant(null), weight: 1 }
    ).map((x) =>
      x === null ?
        { key: `${RAW_PREFIX}_SUCCESS`, etag: "e" } :
        { key: rawParquetKey(x[0] as RefDate, x[1] as IndexCode), etag: `e${x[2]}` }
    ),
    { maxLength: 30 }
  )

  it("equals rawStateOf of the listing with those dates' objects swapped", () => {
    FC.assert(
      FC.property(listing, listing, FC.subarray(DATES), (before, now, dates) => {
        const swapped = new Set<string>(dates)
        const dateOf = (key: string) => /ref_date=([^/]+)\//.exec(key)?.[1]
        // unique keys, as a listing has them
        const unique = (xs: typeof before) => [...new Map(xs.map((x) => [x.key, x])).values()]
        const old = unique(before)
        const fresh = unique(now).filter((x) => swapped.has(dateOf(x.key) ?? ""))
        const expected = rawStateOf([...old.filter((x) => !swapped.has(dateOf(x.key) ?? "")), ...fresh])
        const base = rawStateOf(old)
        const baseCopy = plain(base)
        // keys of other dates in the new listing are ignored
        const actual = replaceDates(base, dates as Array<RefDate>, unique(now))
        assert.deepStrictEqual(plain(actual), plain(expected))
        // the state it started from is left as it was
        assert.deepStrictEqual(plain(base), baseCopy)
      }),
      { numRuns: 500 }
    )
  })
})
