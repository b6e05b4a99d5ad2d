import { CatalogError } from "@b3-pipeline/core/Catalog"
import { ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { RefineJobError } from "@b3-pipeline/core/RefineJob"
import { assert, describe, it } from "@effect/vitest"

describe("wrapping errors keep their cause typed", () => {
  it("RefineJobError.portCause narrows to the store's or catalog's error; retryable follows it", () => {
    const unavailable = new ObjectStoreError({ reason: "Unavailable", method: "get", key: "raw/x.parquet" })
    const wrapped = new RefineJobError({ reason: "Failed", method: "start", cause: unavailable })
    const cause = wrapped.portCause
    assert.isTrue(cause instanceof ObjectStoreError)
    if (cause?._tag === "ObjectStoreError") assert.strictEqual(cause.key, "raw/x.parquet")
    assert.isTrue(wrapped.retryable)

    const corrupt = new CatalogError({ reason: "Corrupt", method: "listPartitions" })
    const fromCatalog = new RefineJobError({ reason: "Failed", method: "start", cause: corrupt })
    assert.strictEqual(fromCatalog.portCause?._tag, "CatalogError")
    assert.isFalse(fromCatalog.retryable)

    const backend = new RefineJobError({ reason: "Failed", method: "start", cause: new Error("duckdb: out of memory") })
    assert.isUndefined(backend.portCause)
    assert.isFalse(backend.retryable)
    assert.isTrue(new RefineJobError({ reason: "Throttled", method: "start" }).retryable)
  })
})
