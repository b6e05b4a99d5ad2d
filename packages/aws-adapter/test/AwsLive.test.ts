import type { RefDate } from "@b3-pipeline/core/Domain"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as AwsClients from "../src/AwsClients.js"
import * as AwsLive from "../src/AwsLive.js"

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("AwsLive", () => {
  it.effect("builds every port from the environment (no request is made)", () =>
    Effect.gen(function*() {
      const built = yield* Effect.either(Effect.scoped(Layer.build(AwsLive.layerConfig)))
      assert.strictEqual(built._tag, "Right")
    }).pipe(Effect.provide(withEnv({ AWS_REGION: "sa-east-1", B3_BUCKET: "b3-lake", B3_GLUE_JOB: "b3-refine" }))))

  it.effect("a missing B3_BUCKET is a config error naming it", () =>
    Effect.gen(function*() {
      const built = yield* Effect.either(Effect.scoped(Layer.build(AwsLive.layerConfig)))
      assert.strictEqual(built._tag, "Left")
      if (built._tag === "Left") assert.include(String(built.left), "B3_BUCKET")
    }).pipe(Effect.provide(withEnv({ AWS_REGION: "sa-east-1" }))))

  it.effect("without B3_GLUE_JOB the other ports work and RefineJob says what is missing", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* RefineJob).start({ refDate: "2025-04-07" as RefDate }))
      assert.strictEqual(error.reason, "NotFound")
      assert.include(error.message, "B3_GLUE_JOB")
    }).pipe(
      Effect.provide(AwsLive.layerRefineJob),
      Effect.provide(withEnv({ B3_BUCKET: "b3-lake" }))
    ))

  it.effect("an endpoint that is not a URL fails the layer's construction with a config error naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(AwsLive.layerConfig)))
      assert.include(String(error), "B3_S3_ENDPOINT")
      assert.include(String(error), "absolute URL")
    }).pipe(
      Effect.provide(withEnv({ AWS_REGION: "sa-east-1", B3_BUCKET: "b3-lake", B3_S3_ENDPOINT: "127.0.0.1:4569" }))
    ))

  it.effect("an empty AWS_REGION falls back to AWS_DEFAULT_REGION (the SDK refuses an empty region)", () =>
    Effect.gen(function*() {
      const config = yield* AwsClients.config
      assert.strictEqual(config.region, "eu-west-1")
    }).pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(new Map([["AWS_REGION", ""], ["AWS_DEFAULT_REGION", "eu-west-1"]]))
      )
    ))

  it.effect("a client the SDK refuses to build fails the layer with a config error, not a defect", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(AwsClients.layerS3({ region: "" }))))
      assert.strictEqual(error._op, "InvalidData")
      assert.include(String(error), "Region is missing")
    }))

  it("exports the environment variable names the CLI and infra share", () => {
    assert.deepStrictEqual(
      [AwsLive.EnvVar.bucket, AwsLive.EnvVar.glueJob, AwsLive.EnvVar.database, AwsLive.EnvVar.athenaWorkgroup],
      ["B3_BUCKET", "B3_GLUE_JOB", "B3_DATABASE", "B3_ATHENA_WORKGROUP"]
    )
  })
})
