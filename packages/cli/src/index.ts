/**
 * The `b3` command as a library: its command tree, renderers and the report.
 *
 * @since 0.1.0
 */
export * as Batch from "./Batch.js"
export * as Cli from "./Cli.js"
export * as Env from "./Env.js"
export * as Files from "./Files.js"
export * as Output from "./Output.js"
export * as Report from "./report/Report.js"
export * as Status from "./Status.js"
