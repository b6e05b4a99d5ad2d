/**
 * The three Glue job-run calls `GlueRefineJob` makes, as a port of this package: `GetJobRuns`,
 * `GetJobRun` and `StartJobRun`, in the SDK's own request and response shapes (types only: this
 * module loads no SDK code).
 *
 * Two adapters, each named after its backend:
 * - `SdkGlueJobRuns`: the AWS SDK's `GlueClient` (the `Glue` service). The default everywhere.
 * - `HttpGlueJobRuns`: the same three calls as signed JSON requests over `node:https`, with the
 *   environment's credentials. Made for the trigger Lambda, whose cold start is its latency: the
 *   SDK's Glue client costs about three times this one to load and to make its first call (see the
 *   README's performance section).
 *
 * Both answer the same way (runs with `Date` times; failures as errors that `awsError.classify`
 * names: `name` is Glue's error type, `$metadata.httpStatusCode` its status), and both run against
 * the same Glue fake in the tests. Retries are not theirs: every call goes through the adapter's
 * `Retry.call`, which passes the `AbortSignal` that interrupts a call.
 *
 * @since 0.1.0
 */
import type {
  GetJobRunRequest,
  GetJobRunResponse,
  GetJobRunsRequest,
  GetJobRunsResponse,
  StartJobRunRequest,
  StartJobRunResponse
} from "@aws-sdk/client-glue"
import * as Context from "effect/Context"

/** @category models */
export interface GlueJobRunsApi {
  readonly getJobRuns: (input: GetJobRunsRequest, signal: AbortSignal) => Promise<GetJobRunsResponse>
  readonly getJobRun: (input: GetJobRunRequest, signal: AbortSignal) => Promise<GetJobRunResponse>
  readonly startJobRun: (input: StartJobRunRequest, signal: AbortSignal) => Promise<StartJobRunResponse>
}

/** @category tags */
export class GlueJobRuns extends Context.Tag("@b3-pipeline/aws-adapter/GlueJobRuns")<GlueJobRuns, GlueJobRunsApi>() {}
