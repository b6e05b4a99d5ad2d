import * as Catalog from "@b3-pipeline/core/Catalog"
import { suite } from "./CatalogContract.js"

suite("memory", Catalog.layerMemory)
