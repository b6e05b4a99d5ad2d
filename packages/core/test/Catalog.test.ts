import * as Catalog from "@b3-pipeline/core/Catalog"
import { suite } from "@b3-pipeline/core/testing/CatalogContract"

suite("memory", Catalog.layerMemory)
