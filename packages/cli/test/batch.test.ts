/**
 * `Batch.runBatch` in isolation: its times come from the `Clock` (a `TestClock` here), it keeps
 * going past a failed input, records the run under `runs/<day>/` and prints through the `Console`
 * of the fiber (its progress lines).
 */
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { layerMemory, ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import type { RawWrite } from "@b3-pipeline/core/RawLayer"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { formatSummary, runBatch, succeeded } from "../src/Batch.js"
import { Refresher } from "../src/Refresher.js"
import { captureConsole } from "./support/inProcess.js"

const write = (indexCode: string, outcome: RawWrite["outcome"]): RawWrite => ({
  indexCode: indexCode as IndexCode,
  refDate: "2025-10-03" as RefDate,
  parquetKey: unsafeKey("raw", `${indexCode}.parquet`),
  payloadKeys: [],
  rows: 82,
  outcome
})

const refresher = Layer.succeed(Refresher, {
  description: "refined by the test",
  afterBatch: Effect.succeed([]),
  reconcile: () => Effect.die("not used"),
  inProcess: true,
  exclusive: () => Effect.void
})

describe("runBatch", () => {
  it.effect("times from the Clock, failures kept, the run recorded under its day, progress on the console", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2025-10-03T21:15:30.250Z"))
      const captured = captureConsole()
      const summary = yield* runBatch("ingest", [
        { label: "IBOVDia_03-10-25.csv", ingest: Effect.succeed(write("IBOV", "created")) },
        { label: "broken.csv", ingest: Effect.fail(new Error("not a B3 file")) },
        { label: "SMLLDia_03-10-25.csv", ingest: Effect.succeed(write("SMLL", "unchanged")) }
      ], { progress: true }).pipe(Effect.withConsole(captured.console))

      assert.strictEqual(summary.startedAt, "2025-10-03T21:15:30.250Z")
      assert.strictEqual(summary.finishedAt, "2025-10-03T21:15:30.250Z")
      assert.isFalse(succeeded(summary))
      assert.deepStrictEqual(summary.items.map((i) => i.error), [undefined, "not a B3 file", undefined])
      assert.include(captured.stderr(), "ingest: 3/3 (100%)")
      assert.strictEqual(captured.stdout(), "")

      const store = yield* ObjectStore
      const keys = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("runs/"))).map((i) => i.key)
      assert.deepStrictEqual(keys, ["runs/2025-10-03/run-2025-10-03T211530250Z.json"])
      const body = yield* store.get(unsafeKey("runs", "2025-10-03", "run-2025-10-03T211530250Z.json"))
      assert.isTrue(Option.isSome(body))
      const recorded = JSON.parse(new TextDecoder().decode(Option.getOrThrow(body)))
      assert.strictEqual(recorded.startedAt, summary.startedAt)

      const text = formatSummary(summary, "refined by the test")
      assert.match(text, /^ingest: 3 input\(s\) in 0\.0 s: 1 new, 0 replaced, 1 already present \(skipped\), 1 failed/)
      assert.include(text, "FAILED broken.csv: not a B3 file")
    }).pipe(Effect.provide(Layer.merge(layerMemory, refresher))))
})
