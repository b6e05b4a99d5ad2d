/**
 * The Athena adapter passes core's QueryEngine contract against Athena's wire (the SDK mocked by
 * `testing/AthenaFake`): the answers come from core's memory engine over the same store and catalog
 * the suite writes, sent as Athena sends them (all text, header row, pages of two rows, QUEUED ->
 * RUNNING -> SUCCEEDED), so the suite checks the adapter's polling, paging, value mapping and error
 * reasons. The typed-literals row is Athena's text for that query (canned: the memory engine has no
 * expressions).
 */
import * as Catalog from "@b3-pipeline/core/Catalog"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { LITERALS, suite } from "@b3-pipeline/core/testing/QueryEngineContract"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AthenaQueryEngine from "../src/AthenaQueryEngine.js"
import { Athena } from "../src/AwsClients.js"
import * as AthenaFake from "../src/testing/AthenaFake.js"

const literals: AthenaFake.WireResult = {
  columns: [
    AthenaFake.columnInfo("big", "bigint"),
    AthenaFake.columnInfo("small", "integer"),
    AthenaFake.columnInfo("weight", "decimal(7,3)"),
    AthenaFake.columnInfo("day", "date"),
    AthenaFake.columnInfo("text", "varchar"),
    AthenaFake.columnInfo("nothing", "varchar"),
    AthenaFake.columnInfo("yes", "boolean"),
    AthenaFake.columnInfo("ratio", "double")
  ],
  rows: [["9007199254740993", "-42", "3.570", "2025-01-02", "ação", undefined, "true", "1.5"]]
}

const athena = Layer.unwrapEffect(Effect.gen(function*() {
  const memory = yield* QueryEngine.makeMemory
  const fake = AthenaFake.make(memory, { canned: [{ sql: LITERALS.sql, result: literals }] })
  return AthenaQueryEngine.layer({
    workgroup: "b3",
    pollInterval: "1 millis",
    maxPollInterval: "5 millis",
    pageSize: 2
  }).pipe(Layer.provide(Layer.succeed(Athena, fake.client)))
}))

suite(
  "athena (SDK mock)",
  athena.pipe(Layer.provideMerge(Layer.merge(ObjectStore.layerMemory, Catalog.layerMemory))),
  { literals: true }
)
