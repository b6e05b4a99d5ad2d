/**
 * Entry point of the `b3` command. Exit codes: 0 success, 1 some input or stage failed (a summary
 * names each), 2 usage error (see `Main.ts`).
 *
 * `b3 --help`, `b3 --version` and `b3 <command> --help` are answered from the help snapshot written
 * beside the bundle when it was built (`QuickAnswer`), without loading Effect; a plain `b3 query` on
 * the local target (`QuickQuery`) runs without the command tree and @effect/cli (`QueryMain`); every
 * other command line goes through `Run.ts`, and so does help where there is no snapshot (the compiled
 * `dist/bin.js`).
 *
 * @since 0.1.0
 */
import { answer, snapshotOf } from "./QuickAnswer.js"
import { plan } from "./QuickQuery.js"

const args = process.argv.slice(2)
const snapshot = snapshotOf(import.meta.url)
if (snapshot === undefined || !answer(snapshot, args)) {
  const quick = plan(args)
  if (quick !== undefined) {
    // DuckDB opens on the thread pool while the main thread loads the query's code (QueryMain). Where
    // DuckDB cannot load, nothing starts: the query's own open reports why, as the program would.
    await import("@b3-pipeline/local-adapter/DuckDbHeadStart").then((m) => m.start(), () => undefined)
    ;(await import("./QueryMain.js")).run(quick)
  } else await import("./Run.js")
}
