/**
 * Entry point of the `b3` command. Exit codes: 0 success, 1 some input or stage failed (a summary
 * names each), 2 usage error (see `Main.ts`).
 *
 * `b3 --help`, `b3 --version` and `b3 <command> --help` are answered from the help snapshot written
 * beside the bundle when it was built (`QuickAnswer`), without loading Effect; every other command
 * line, and every run without a snapshot (the compiled `dist/bin.js`), goes through `Run.ts`.
 *
 * @since 0.1.0
 */
import { answer, snapshotOf } from "./QuickAnswer.js"

const snapshot = snapshotOf(import.meta.url)
if (snapshot === undefined || !answer(snapshot, process.argv.slice(2))) await import("./Run.js")
