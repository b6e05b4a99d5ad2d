/**
 * The only code that knows AWS error names. Every adapter classifies an SDK failure here into a
 * small closed set, then maps that set onto its port's `reason`; the SDK error itself travels in
 * `cause`.
 *
 * @since 0.1.0
 */

/** @internal */
export type AwsFailure =
  | "NotFound"
  | "Throttled"
  | "AccessDenied"
  | "ConcurrentRuns"
  | "AlreadyExists"
  | "InvalidInput"
  | "Unavailable"
  | "Aborted"
  | "Unknown"

interface SdkErrorLike {
  readonly name?: unknown
  readonly Code?: unknown
  readonly code?: unknown
  readonly $retryable?: { readonly throttling?: boolean } | undefined
  readonly $metadata?: { readonly httpStatusCode?: number } | undefined
}

const NOT_FOUND = new Set([
  "NoSuchKey",
  "NotFound",
  "NoSuchBucket",
  "EntityNotFoundException",
  "ResourceNotFoundException"
])
const THROTTLED = new Set([
  "SlowDown",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
  "ResourceNumberLimitExceededException"
])
const ACCESS_DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnrecognizedClientException",
  "InvalidClientTokenId"
])
const UNAVAILABLE = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServiceException",
  "InternalServerException",
  "OperationTimeoutException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN"
])
const INVALID = new Set(["InvalidInputException", "InvalidRequestException", "ValidationException", "InvalidArgument"])

/** The error's name as the SDK reports it (`name`, or `Code` from some XML errors). @internal */
export const errorName = (cause: unknown): string => {
  if (typeof cause !== "object" || cause === null) return String(cause)
  const e = cause as SdkErrorLike
  if (typeof e.name === "string" && e.name !== "Error") return e.name
  if (typeof e.Code === "string") return e.Code
  if (typeof e.code === "string") return e.code
  return typeof e.name === "string" ? e.name : "Unknown"
}

/** The HTTP status of an SDK error, when it has one. @internal */
export const httpStatus = (cause: unknown): number | undefined =>
  typeof cause === "object" && cause !== null ? (cause as SdkErrorLike).$metadata?.httpStatusCode : undefined

/** @internal */
export const classify = (cause: unknown): AwsFailure => {
  const name = errorName(cause)
  const e = (typeof cause === "object" && cause !== null ? cause : {}) as SdkErrorLike
  if (name === "AbortError") return "Aborted"
  if (name === "ConcurrentRunsExceededException") return "ConcurrentRuns"
  if (name === "AlreadyExistsException") return "AlreadyExists"
  // A missing bucket is a configuration error, never an absent object.
  if (name === "NoSuchBucket") return "Unknown"
  if (NOT_FOUND.has(name)) return "NotFound"
  if (THROTTLED.has(name) || e.$retryable?.throttling === true) return "Throttled"
  if (ACCESS_DENIED.has(name)) return "AccessDenied"
  if (UNAVAILABLE.has(name)) return "Unavailable"
  if (INVALID.has(name)) return "InvalidInput"
  const status = httpStatus(cause)
  if (status === 404) return "NotFound"
  if (status === 429 || status === 503) return "Throttled"
  if (status === 403) return "AccessDenied"
  if (status !== undefined && status >= 500) return "Unavailable"
  return "Unknown"
}

/** A short human detail for an error message: `Name: message`. @internal */
export const describe = (cause: unknown): string => {
  const name = errorName(cause)
  const message = typeof cause === "object" && cause !== null && "message" in cause ?
    String((cause as { message: unknown }).message) :
    ""
  return message !== "" && message !== name ? `${name}: ${message}` : name
}
