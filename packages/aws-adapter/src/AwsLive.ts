/**
 * Every AWS adapter, configured from the environment: S3 object store (+ core's raw layer on it),
 * Glue refine job, Glue Data Catalog, Athena query engine. The CLI's `--target aws` and the
 * Lambda handlers use these layers; the handlers take only the part they need (cold start).
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `AWS_REGION` | region of every client | `AWS_DEFAULT_REGION`, then `us-east-1` |
 * | `B3_BUCKET` | the lakehouse bucket | required |
 * | `B3_GLUE_JOB` | the refine Glue job | required by `RefineJob` only (its calls fail without it) |
 * | `B3_DATABASE` | Glue database | `default` |
 * | `B3_ATHENA_WORKGROUP` | Athena workgroup | `primary` |
 * | `B3_ATHENA_OUTPUT` | `s3://...` results location | the workgroup's |
 * | `B3_S3_ENDPOINT` | S3-compatible endpoint (path-style) | AWS |
 *
 * @since 0.1.0
 */
import type { Catalog } from "@b3-pipeline/core/Catalog"
import type { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import { RefineJob, RefineJobError } from "@b3-pipeline/core/RefineJob"
import * as Tables from "@b3-pipeline/core/Tables"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as AthenaQueryEngine from "./AthenaQueryEngine.js"
import * as AwsClients from "./AwsClients.js"
import { EnvVar } from "./EnvVar.js"
import * as GlueCatalog from "./GlueCatalog.js"
import * as GlueRefineJob from "./GlueRefineJob.js"
import * as S3ObjectStore from "./S3ObjectStore.js"

/** Names of the environment variables read here (one definition, `EnvVar.ts`; infra sets them). @category config */
export { EnvVar } from "./EnvVar.js"

/** @category config */
export const bucket: Config.Config<string> = /* @__PURE__ */ Config.nonEmptyString(EnvVar.bucket)
/** @category config */
export const database: Config.Config<string> = /* @__PURE__ */ Config.nonEmptyString(EnvVar.database).pipe(
  Config.withDefault(Tables.DATABASE)
)
/** @category config */
export const glueJob: Config.Config<Option.Option<string>> = /* @__PURE__ */ Config.option(
  Config.nonEmptyString(EnvVar.glueJob)
)
/** @category config */
export const athenaWorkgroup: Config.Config<string> = /* @__PURE__ */ Config.nonEmptyString(EnvVar.athenaWorkgroup)
  .pipe(
    Config.withDefault("primary")
  )
/** @category config */
export const athenaOutput: Config.Config<Option.Option<string>> = /* @__PURE__ */ Config.option(
  Config.nonEmptyString(EnvVar.athenaOutput)
)

/**
 * The clients. Layers are memoized by reference within a build, so each client is built once per
 * `layerConfig` and shared by the adapters below.
 *
 * @category layers
 */
export const S3Live: Layer.Layer<AwsClients.S3, ConfigError.ConfigError> = /* @__PURE__ */ AwsClients.layerS3Config()
/** @category layers */
export const GlueLive: Layer.Layer<AwsClients.Glue, ConfigError.ConfigError> = /* @__PURE__ */ AwsClients
  .layerGlueConfig()
/** @category layers */
export const AthenaLive: Layer.Layer<AwsClients.Athena, ConfigError.ConfigError> = /* @__PURE__ */ AwsClients
  .layerAthenaConfig()

/** `ObjectStore` on `B3_BUCKET`. @category layers */
export const layerObjectStore: Layer.Layer<ObjectStore, ConfigError.ConfigError> = /* @__PURE__ */ S3ObjectStore
  .layerConfig({
    bucket,
    region: Config.option(Config.string(EnvVar.region)).pipe(Config.map(Option.getOrUndefined))
  }).pipe(Layer.provide(S3Live))

/** Core's raw layer on S3 (what the scheduled ingest writes with). @category layers */
export const layerRawLayer: Layer.Layer<RawLayer.RawLayer | ObjectStore, ConfigError.ConfigError> =
  /* @__PURE__ */ RawLayer
    .layer.pipe(Layer.provideMerge(layerObjectStore))

const missingJob = (method: string) =>
  new RefineJobError({ reason: "NotFound", method, detail: `${EnvVar.glueJob} is not set: no Glue job to run` })

/** `RefineJob` on the Glue job `B3_GLUE_JOB`. @category layers */
export const layerRefineJob: Layer.Layer<RefineJob, ConfigError.ConfigError> = /* @__PURE__ */ Layer.unwrapEffect(
  Effect.gen(function*() {
    const job = yield* glueJob
    if (Option.isNone(job)) {
      return Layer.succeed(
        RefineJob,
        RefineJob.of({ start: () => Effect.fail(missingJob("start")), status: () => Effect.fail(missingJob("status")) })
      )
    }
    return GlueRefineJob.layer({ jobName: job.value, bucket: yield* bucket, database: yield* database }).pipe(
      Layer.provide(GlueLive)
    )
  })
)

/** `Catalog` on the Glue Data Catalog. @category layers */
export const layerCatalog: Layer.Layer<Catalog, ConfigError.ConfigError> = /* @__PURE__ */ GlueCatalog.layerConfig({
  bucket,
  database
}).pipe(Layer.provide(GlueLive))

/** `QueryEngine` on Athena. @category layers */
export const layerQueryEngine: Layer.Layer<QueryEngine, ConfigError.ConfigError> = /* @__PURE__ */ AthenaQueryEngine
  .layerConfig({
    workgroup: athenaWorkgroup,
    database,
    outputLocation: athenaOutput.pipe(Config.map(Option.getOrUndefined))
  }).pipe(Layer.provide(AthenaLive))

/** What `layerConfig` provides. @category models */
export type AwsServices = ObjectStore | RawLayer.RawLayer | RefineJob | Catalog | QueryEngine

/**
 * Every port on AWS, from the environment (see the module comment).
 *
 * @category layers
 */
export const layerConfig: Layer.Layer<AwsServices, ConfigError.ConfigError> = /* @__PURE__ */ Layer.mergeAll(
  layerRawLayer,
  layerRefineJob,
  layerCatalog,
  layerQueryEngine
)
