/**
 * Entry point of the `b3` command. Exit codes: 0 success, 1 some input or stage failed (a summary
 * names each), 2 usage error (see `Main.ts`).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { main } from "./Main.js"

// The one place the process's exit code is set: the program's own code, 130 when interrupted
// (Ctrl-C, SIGTERM), 1 for anything else.
NodeRuntime.runMain(main(process.argv), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit) ?
      (typeof exit.value === "number" ? exit.value : 1) :
      Cause.isInterruptedOnly(exit.cause)
      ? 130
      : 1
    process.exitCode = code
    onExit(code)
  }
})
