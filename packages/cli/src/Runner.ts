/**
 * Runs a `b3` program (an effect that succeeds with its exit code) as this process: sets the
 * process's exit code, interrupts the program on Ctrl-C or SIGTERM (its finalizers run, then exit
 * 130), keeps the heap near what the program holds live (`HeapBudget`) and, with `B3_TRACE=1`, prints
 * each span's duration on stderr (`Trace`). Used by `Run.ts` (the
 * whole program) and by the quick path of `b3 query` (`QueryMain.ts`), so both end alike.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HeapBudget from "./HeapBudget.js"
import * as Trace from "./Trace.js"

// The one place the process's exit code is set: the program's own code (below), 130 when
// interrupted (Ctrl-C, SIGTERM), 1 for anything else.
const setExitCode = (code: number): number => {
  process.exitCode = code
  return code
}

/**
 * Runs `program` until it ends, then ends the process with its exit code. Call once per process.
 *
 * @category running
 */
export const runMain = (program: Effect.Effect<number>): void => {
  // Ctrl-C or SIGTERM interrupts the program, whose finalizers then run (the writer lock is released)
  // before it exits with 130. runMain removes its own signal listener at the first signal, and the
  // writer lock's `proper-lockfile` (through `signal-exit`) re-raises a signal when its listener is the
  // only one left, which killed the process before the finalizers ran: this listener stays, and a
  // second signal ends the process at once.
  let signals = 0
  const onSignal = () => {
    if (++signals > 1) process.exit(setExitCode(130))
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)

  // A long command's heap stays near what it keeps live (see HeapBudget.ts).
  HeapBudget.start()

  // B3_TRACE=1: each span printed on stderr with its duration (Trace.ts)
  NodeRuntime.runMain(Trace.enabled() ? Effect.withTracer(program, Trace.printing()) : program, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      const code = Exit.isSuccess(exit) ?
        (typeof exit.value === "number" ? exit.value : 1) :
        Cause.isInterruptedOnly(exit.cause)
        ? 130
        : 1
      onExit(setExitCode(code))
    }
  })
}
