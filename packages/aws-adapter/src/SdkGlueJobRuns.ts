/**
 * `GlueJobRuns` on the AWS SDK's `GlueClient` (the `Glue` service of `ClientGlue`): each call is the
 * SDK command of the same name, sent with the caller's `AbortSignal`.
 *
 * @since 0.1.0
 */
import type { GlueClient } from "@aws-sdk/client-glue"
import { GetJobRunCommand, GetJobRunsCommand, StartJobRunCommand } from "@aws-sdk/client-glue"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Glue } from "./ClientGlue.js"
import type { GlueJobRunsApi } from "./GlueJobRuns.js"
import { GlueJobRuns } from "./GlueJobRuns.js"

/** @category constructors */
export const fromClient = (glue: GlueClient): GlueJobRunsApi => ({
  getJobRuns: (input, abortSignal) => glue.send(new GetJobRunsCommand(input), { abortSignal }),
  getJobRun: (input, abortSignal) => glue.send(new GetJobRunCommand(input), { abortSignal }),
  startJobRun: (input, abortSignal) => glue.send(new StartJobRunCommand(input), { abortSignal })
})

/** @category layers */
export const layer: Layer.Layer<GlueJobRuns, never, Glue> = Layer.effect(GlueJobRuns, Effect.map(Glue, fromClient))
