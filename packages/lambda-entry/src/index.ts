/**
 * The Lambda handlers (barrel). Each handler is bundled from its own module
 * (`npm run bundle` -> dist/<handler>/index.mjs).
 *
 * @since 0.1.0
 */
export * as Esbuild from "./Esbuild.js"
export * as OnRawObjectCreated from "./onRawObjectCreated.js"
export * as ScheduledIngest from "./scheduledIngest.js"
