/**
 * The `RefineJob` port (stage 4, trigger): start the refine of a date after a raw object lands, and
 * report how a run went. On AWS this is a Glue job run; locally, DuckDB running the same SQL; in
 * memory, the TypeScript reference refine (`Refine.ts`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { IndexCode, RefDate } from "./Domain.js"

/** What to refine: one B3 date (every index of that date is rebuilt). @category models */
export interface RefineRequest {
  readonly refDate: RefDate
  /** The index whose raw object triggered the run, when there is one. */
  readonly indexCode?: IndexCode
  /** The raw object that triggered the run, when there is one. */
  readonly sourceKey?: string
}

/** @category models */
export const RunState = Schema.Literal("STARTING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT")
/** @category models */
export type RunState = typeof RunState.Type

/** @category models */
export interface RefineRun {
  readonly runId: string
  readonly refDate: RefDate
  readonly state: RunState
  /** `false` when an identical run was already going (a duplicate event) and none was started. */
  readonly started: boolean
  readonly startedAt?: string
  readonly completedAt?: string
  /** Rows written to the refined table, when the backend knows. */
  readonly rows?: number
  readonly errorMessage?: string
}

/** @category errors */
export class RefineJobError extends Schema.TaggedError<RefineJobError>()("RefineJobError", {
  reason: Schema.Literal("NotFound", "NoRawData", "ConcurrentRuns", "Throttled", "Failed", "AccessDenied", "Unknown"),
  method: Schema.String,
  refDate: Schema.optional(Schema.String),
  runId: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `RefineJob.${this.method} failed (${this.reason})${this.refDate !== undefined ? ` for ${this.refDate}` : ""}${
      this.runId !== undefined ? ` run ${this.runId}` : ""
    }${this.detail !== undefined ? `: ${this.detail}` : ""}`
  }
  get retryable(): boolean {
    return this.reason === "ConcurrentRuns" || this.reason === "Throttled"
  }
}

/** @category tags */
export class RefineJob extends Context.Tag("@b3-pipeline/core/RefineJob")<RefineJob, {
  /** Starts (or, for an in-process backend, runs to completion) the refine of a date. */
  readonly start: (request: RefineRequest) => Effect.Effect<RefineRun, RefineJobError>
  readonly status: (runId: string) => Effect.Effect<RefineRun, RefineJobError>
}>() {}
