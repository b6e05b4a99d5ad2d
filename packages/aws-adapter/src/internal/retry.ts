/**
 * The one retry policy of the AWS adapters (the SDK clients run with `maxAttempts: 1`).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** @internal */
export interface RetryPolicy {
  /** First delay; doubles each time (with jitter). */
  readonly base: Duration.DurationInput
  /** Retries after the first attempt. */
  readonly times: number
}

/** @internal */
export const defaultPolicy: RetryPolicy = { base: "200 millis", times: 4 }

/** @internal */
export const schedule = (policy: RetryPolicy) =>
  Schedule.exponential(policy.base).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(policy.times)))

/** Retries while the error says it is worth it. @internal */
export const retryTransient =
  (policy: RetryPolicy = defaultPolicy) =>
  <A, E extends { readonly retryable: boolean }, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.retry(self, { while: (e) => e.retryable, schedule: schedule(policy) })
