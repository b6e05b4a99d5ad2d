import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as Testing from "@b3-pipeline/core/Testing"
import { suite } from "@b3-pipeline/core/testing/ObjectStoreContract"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

suite("memory", ObjectStore.layerMemory)
// the memory store of Testing (it also queues events for the trigger): same contract
suite("testing memory", Layer.project(Testing.layerStore, ObjectStore.ObjectStore, ObjectStore.ObjectStore, (s) => s))

describe("ObjectStore.layerMemory", () => {
  it.effect("each build is a fresh, empty store", () =>
    Effect.gen(function*() {
      const key = ObjectStore.unsafeKey("fresh", "a.txt")
      const put = ObjectStore.ObjectStore.pipe(Effect.flatMap((s) => s.put(key, new Uint8Array([1]))))
      const head = ObjectStore.ObjectStore.pipe(Effect.flatMap((s) => s.head(key)))
      yield* Effect.provide(put, ObjectStore.layerMemory)
      assert.isTrue(Option.isNone(yield* Effect.provide(head, ObjectStore.layerMemory)))
    }))
})
