/**
 * Classifies filesystem failures (an @effect/platform `PlatformError`, or a Node errno error) into
 * the few reasons the ports care about, with a short detail naming the path: never a stack.
 */
import type { PlatformError } from "@effect/platform/Error"

/** The errno code behind a failure (`EACCES`, `ENOSPC`...), when one can be found. */
export const errnoOf = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code
    current = (current as { readonly cause?: unknown }).cause
  }
  if (error !== null && typeof error === "object") {
    const description = (error as { readonly description?: unknown }).description
    if (typeof description === "string") {
      const m = /\b(E[A-Z]{3,})\b/.exec(description)
      if (m !== null) return m[1]
    }
  }
  return undefined
}

export type FsReason = "AccessDenied" | "NoSpace" | "NotFound" | "Unknown"

export const classify = (error: unknown): FsReason => {
  const code = errnoOf(error)
  if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "ENOTDIR") return "AccessDenied"
  if (code === "ENOSPC" || code === "EDQUOT") return "NoSpace"
  if (code === "ENOENT") return "NotFound"
  const reason = (error as Partial<PlatformError> | null)?._tag === "SystemError" ?
    (error as { readonly reason?: string }).reason :
    undefined
  if (reason === "PermissionDenied") return "AccessDenied"
  if (reason === "NotFound") return "NotFound"
  return "Unknown"
}

/** `"<path>: <code or reason>"`, short and without a stack. */
export const describe = (path: string, error: unknown): string => {
  const code = errnoOf(error)
  const reason = (error as { readonly reason?: unknown } | null)?.reason
  const what = code ?? (typeof reason === "string" ? reason : error instanceof Error ? error.name : "error")
  return `${path}: ${what}`
}
