#!/usr/bin/env node
// The `b3` command. Runs the esbuild bundle (built by `npm ci` / `npm run build:cli`) when it is newer
// than every TypeScript source of the workspace; otherwise loads the sources through tsx, so an edit
// is never hidden behind a stale bundle.
import { existsSync, readdirSync, statSync } from "node:fs"
import * as nodeModule from "node:module"
import { fileURLToPath } from "node:url"

// Node 22.1+ keeps V8's compiled code of the modules loaded after this call on disk (in the OS's
// temporary folder), for the next run; Node 20 has no such function, and nothing changes there.
nodeModule.enableCompileCache?.()

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const bundle = here("../dist/b3.mjs")

const newestSource = () => {
  let newest = 0
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  const packages = here("../..")
  for (const pkg of readdirSync(packages)) {
    try {
      walk(`${packages}/${pkg}/src`)
    } catch {
      // a package without src/
    }
  }
  return newest
}

// Installed from the published package (no TypeScript sources beside it): the bundle packed with it
// (its `prepack` builds it from the same sources as dist/), else the compiled dist/.
const installed = !existsSync(here("../src/bin.ts"))

// In the repository: whether the bundle is newer than every source (an installed package has none).
const fresh = () => {
  try {
    return statSync(bundle).mtimeMs >= newestSource()
  } catch {
    return false
  }
}
if (installed) {
  if (existsSync(bundle)) await import(bundle)
  else await import("../dist/bin.js")
} else if (process.env.B3_CLI_FROM_SOURCE === undefined && fresh()) {
  await import(bundle)
} else if (process.env.B3_CLI_REQUIRE_BUNDLE === "1") {
  // a benchmark's guard: timing the sources through tsx instead of the bundle is a wrong figure
  process.stderr.write("b3: packages/cli/dist/b3.mjs is older than the TypeScript sources: run `npm run build:cli`\n")
  process.exit(2)
} else {
  // the workspace's packages export their sources under the "@b3-pipeline/source" condition
  nodeModule.register(
    "data:text/javascript,export const resolve = (s, c, next) => next(s, { ...c, conditions: [\"@b3-pipeline/source\", ...c.conditions] })"
  )
  const tsx = await import("tsx/esm/api")
  tsx.register()
  await import("../src/bin.ts")
}
