import * as ObjectStore from "@b3-pipeline/core/ObjectStore"
import * as Testing from "@b3-pipeline/core/Testing"
import { suite } from "@b3-pipeline/core/testing/ObjectStoreContract"
import * as Layer from "effect/Layer"

suite("memory", ObjectStore.layerMemory)
// the memory store of Testing (it also queues events for the trigger): same contract
suite("testing memory", Layer.project(Testing.layerStore, ObjectStore.ObjectStore, ObjectStore.ObjectStore, (s) => s))
