/**
 * The one place every AWS SDK call of the adapters goes through (the SDK clients run with
 * `maxAttempts: 1`): it runs the call, classifies a failure (`awsError.classify`), retries the
 * transient classes (`Throttled`, `Unavailable`, and whatever else the caller names) on the
 * policy's schedule, then maps the last failure onto the caller's port error. S3, Glue and Athena
 * calls all come here, so the retry policy and the list of transient AWS errors exist once.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { AwsFailure } from "./awsError.js"
import { classify } from "./awsError.js"

/** @internal */
export interface RetryPolicy {
  /** First delay; doubles each time (with jitter). */
  readonly base: Duration.DurationInput
  /** Retries after the first attempt. */
  readonly times: number
}

/** 200 ms doubling, 4 retries: at most ~3 s of waiting (x1.5 with jitter). @internal */
export const defaultPolicy: RetryPolicy = { base: "200 millis", times: 4 }

/** @internal */
export const schedule = (policy: RetryPolicy) =>
  Schedule.exponential(policy.base).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(policy.times)))

/**
 * The longest total wait of a policy (every delay at its jitter maximum, 1.5x): what a caller
 * with a deadline (a Lambda timeout) budgets for. @internal
 */
export const maxTotalWait = (policy: RetryPolicy): Duration.Duration => {
  const base = Duration.toMillis(policy.base)
  let total = 0
  for (let i = 0; i < policy.times; i++) total += base * 2 ** i * 1.5
  return Duration.millis(total)
}

/** The failures retried by default: throttling and service/network unavailability. @internal */
export const TRANSIENT: ReadonlySet<AwsFailure> = new Set<AwsFailure>(["Throttled", "Unavailable"])

/** @internal */
export interface CallOptions<E> {
  /** The port error for a failure that is not retried (or is still failing after the last retry). */
  readonly onError: (cause: unknown, failure: AwsFailure) => E
  readonly policy?: RetryPolicy | undefined
  /** Classes retried (default `TRANSIENT`). */
  readonly retryOn?: ReadonlySet<AwsFailure> | undefined
}

/**
 * One SDK call with the adapters' retry policy. `f` receives the fiber's abort signal (an
 * interrupted call aborts its HTTP request). @internal
 */
export const call = <A, E>(f: (signal: AbortSignal) => Promise<A>, options: CallOptions<E>): Effect.Effect<A, E> => {
  const retryOn = options.retryOn ?? TRANSIENT
  return Effect.tryPromise({ try: f, catch: (cause) => cause }).pipe(
    Effect.retry({
      while: (cause) => retryOn.has(classify(cause)),
      schedule: schedule(options.policy ?? defaultPolicy)
    }),
    Effect.mapError((cause) => options.onError(cause, classify(cause)))
  )
}

/**
 * A paginated SDK listing as a stream of pages, each page one `call` (retried on its own: a
 * throttled third page does not restart the listing). `next` reads the continuation token of a
 * page (`undefined`: last page). @internal
 */
export const pages = <P, E>(
  fetch: (token: string | undefined, signal: AbortSignal) => Promise<P>,
  next: (page: P) => string | undefined,
  options: CallOptions<E>,
  first?: string | undefined
): Stream.Stream<P, E> =>
  Stream.paginateChunkEffect(
    first,
    (token: string | undefined) =>
      Effect.map(call((signal) => fetch(token, signal), options), (page) => {
        const token2 = next(page)
        return [Chunk.of(page), token2 !== undefined && token2 !== "" ? Option.some(token2) : Option.none()] as const
      })
  )
