import * as Catalog from "@b3-pipeline/core/Catalog"
import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import { suite } from "@b3-pipeline/core/testing/QueryEngineContract"
import * as Layer from "effect/Layer"

suite(
  "memory",
  QueryEngine.layerMemory.pipe(Layer.provideMerge(Layer.merge(ObjectStore.layerMemory, Catalog.layerMemory)))
)
