/**
 * Runs the `b3` command line of this process (`process.argv`) and sets its exit code: 0 success,
 * 1 some input or stage failed (a summary names each), 2 usage error (see `Main.ts`). Loaded by
 * `bin.ts` for every command line that `QuickAnswer` does not answer.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as HeapBudget from "./HeapBudget.js"
import { main } from "./Main.js"

// The one place the process's exit code is set: the program's own code (below), 130 when
// interrupted (Ctrl-C, SIGTERM), 1 for anything else.
const setExitCode = (code: number): number => {
  process.exitCode = code
  return code
}

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

NodeRuntime.runMain(main(process.argv), {
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
