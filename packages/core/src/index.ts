/**
 * The barrel of @b3-pipeline/core: one namespace per module. Inside the workspace, import modules by
 * deep path (`@b3-pipeline/core/ObjectStore`); this file is for consumers that want everything.
 *
 * @since 0.1.0
 */
export * as B3Calendar from "./B3Calendar.js"
export * as B3Csv from "./B3Csv.js"
export * as B3Encode from "./B3Encode.js"
export * as B3HttpSource from "./B3HttpSource.js"
export * as B3Json from "./B3Json.js"
export * as B3ParseError from "./B3ParseError.js"
export * as B3Wire from "./B3Wire.js"
export * as Catalog from "./Catalog.js"
export * as Domain from "./Domain.js"
export * as Generate from "./Generate.js"
export * as Manifest from "./Manifest.js"
export * as ObjectStore from "./ObjectStore.js"
export * as Payloads from "./Payloads.js"
export * as Pipeline from "./Pipeline.js"
export * as PortfolioSource from "./PortfolioSource.js"
export * as QueryEngine from "./QueryEngine.js"
export * as RawLayer from "./RawLayer.js"
export * as RawParquet from "./RawParquet.js"
export * as Refine from "./Refine.js"
export * as RefineJob from "./RefineJob.js"
export * as SmallParquet from "./SmallParquet.js"
export * as Tables from "./Tables.js"
export * as Testing from "./Testing.js"
export * as Trigger from "./Trigger.js"
