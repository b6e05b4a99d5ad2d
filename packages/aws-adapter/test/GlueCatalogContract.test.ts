/**
 * The Glue catalog passes core's Catalog contract against Glue's API, mocked at the SDK boundary by
 * `testing/GlueCatalogFake` (a small stateful model of tables and partitions, answering in pages of
 * two so the adapter's paging runs).
 */
import { suite } from "@b3-pipeline/core/testing/CatalogContract"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Glue } from "../src/AwsClients.js"
import * as GlueCatalog from "../src/GlueCatalog.js"
import * as GlueCatalogFake from "../src/testing/GlueCatalogFake.js"

suite(
  "glue (SDK mock)",
  GlueCatalog.layer({ bucket: "b3-bucket" }).pipe(
    Layer.provide(Layer.effect(Glue, Effect.sync(() => GlueCatalogFake.make().client)))
  )
)
