/**
 * `B3_TRACE=1`: every span the pipeline opens (`Effect.withSpan`: refine, reconcile, serving
 * rewrites, store calls, queries, ...) is printed on stderr when it ends, with its duration, depth
 * and attributes, so that a user can see where a slow command spends its time without a profiler:
 *
 * ```text
 * b3 trace     203.6 ms, ended at 1180 ms      DuckDbRefineJob.start refDate=2024-12-19
 * b3 trace     310.7 ms, ended at 1193 ms    Trigger.reconcileDates
 * b3 trace      76.7 ms, ended at 1270 ms    RawServing.update
 * ```
 *
 * Lines come in the order spans end (children before their parent); "ended at" counts from the
 * process's start. Off by default: the tracer is
 * installed only when the variable is set, and costs nothing otherwise.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/** Is tracing asked for (`B3_TRACE` set to anything but empty, `0` or `false`)? @category predicates */
export const enabled = (env: NodeJS.ProcessEnv = process.env): boolean => {
  const value = env["B3_TRACE"]
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false"
}

const depthOf = (parent: Option.Option<Tracer.AnySpan>): number => {
  let depth = 0
  let current = parent
  while (Option.isSome(current)) {
    depth++
    current = current.value._tag === "Span" ? current.value.parent : Option.none()
  }
  return depth
}

/** An attribute's value on one line (headers, URLs and stack traces are left out; long values cut). */
const short = (value: string): string => value.length > 60 ? `${value.slice(0, 57)}...` : value

let nextId = 0

class PrintedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = `b3-${++nextId}`
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    private readonly write: (line: string) => void
  ) {
    this.traceId = Option.isSome(parent) ? parent.value.traceId : `b3-trace-${nextId}`
    this.links = [...links]
    this.status = { _tag: "Started", startTime }
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    const startTime = this.status.startTime
    this.status = { _tag: "Ended", startTime, endTime, exit }
    const ms = Number(endTime - startTime) / 1e6
    const attributes = [...this.attributes].filter(([k]) => !k.includes(".header.") && !/^(url|code)\./.test(k))
      .map(([k, v]) => ` ${k}=${short(typeof v === "string" ? v : JSON.stringify(v))}`).join("")
    const failed = exit._tag === "Failure" ? " (failed)" : ""
    this.write(
      `b3 trace ${ms.toFixed(1).padStart(9)} ms, ended at ${Math.round(performance.now())} ms  ${
        "  ".repeat(depthOf(this.parent))
      }${this.name}${attributes}${failed}`
    )
  }
  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }
  event(): void {}
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

/**
 * A tracer that prints each span as it ends through `write` (default: stderr).
 *
 * @category constructors
 */
export const printing = (write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)) =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind) =>
      new PrintedSpan(name, parent, context, links, startTime, kind, write),
    context: (f) => f()
  })
