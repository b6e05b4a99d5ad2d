/**
 * Runs the `b3` command line of this process (`process.argv`) and sets its exit code: 0 success,
 * 1 some input or stage failed (a summary names each), 2 usage error (see `Main.ts`). Loaded by
 * `bin.ts` for every command line that neither `QuickAnswer` nor the quick path of `b3 query`
 * (`QuickQuery`) takes.
 *
 * @since 0.1.0
 */
import { main } from "./Main.js"
import { runMain } from "./Runner.js"

runMain(main(process.argv))
