/**
 * The one retry schedule of the HTTP source: exponential back-off with jitter, capped, a bounded
 * number of attempts, and the server's `Retry-After` honoured (the delay is at least what it asks;
 * a wait longer than `maxRetryAfter` is not worth taking and ends the retries).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import type { AttemptFailure } from "./httpWire.js"

/** The retry settings of `B3HttpSource` (its `retry` option). */
export interface RetryOptions {
  /** Total tries per request, the first included. Default 5. */
  readonly maxAttempts: number
  /** Default 500 millis, doubled per try (`factor`), capped at `maxDelay` (default 8 seconds). */
  readonly baseDelay: Duration.DurationInput
  readonly maxDelay: Duration.DurationInput
  readonly factor: number
  /** Default true: each delay times a random factor in [0.8, 1.2). */
  readonly jitter: boolean
  /** A `Retry-After` longer than this (default 60 seconds) is not waited for. */
  readonly maxRetryAfter: Duration.DurationInput
}

/** The policy the functions below read: the full `RetryOptions`. */
export type RetryPolicy = RetryOptions

/** The delay before try `n + 1` after `n` failed tries, before jitter and `Retry-After`. */
export const backoff = (policy: RetryPolicy, n: number): Duration.Duration =>
  Duration.min(
    Duration.times(Duration.decode(policy.baseDelay), Math.pow(policy.factor, Math.max(0, n - 1))),
    Duration.decode(policy.maxDelay)
  )

/** Should this failure be tried again at all? */
export const shouldRetry = (policy: RetryPolicy, f: AttemptFailure): boolean =>
  f.error.retryable &&
  (f.retryAfterMs === undefined || f.retryAfterMs <= Duration.toMillis(Duration.decode(policy.maxRetryAfter)))

/** The schedule fed with `AttemptFailure`s by `Effect.retry`. */
export const schedule = (policy: RetryPolicy): Schedule.Schedule<unknown, AttemptFailure> => {
  const maxDelay = Duration.decode(policy.maxDelay)
  const base = Schedule.exponential(policy.baseDelay, policy.factor).pipe(
    Schedule.modifyDelay((d) => Duration.min(d, maxDelay))
  )
  const jittered = policy.jitter ? Schedule.jittered(base) : base
  return Schedule.identity<AttemptFailure>().pipe(
    Schedule.intersect(jittered),
    Schedule.intersect(Schedule.recurs(Math.max(0, policy.maxAttempts - 1))),
    Schedule.whileInput((f: AttemptFailure) => shouldRetry(policy, f)),
    Schedule.modifyDelay(([[f]], d) =>
      f.retryAfterMs !== undefined ? Duration.max(d, Duration.millis(f.retryAfterMs)) : d
    )
  )
}
