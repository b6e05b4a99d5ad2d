#!/usr/bin/env node
// The `b3` command. Runs the esbuild bundle (built by `npm ci` / `npm run build:cli`) when it is newer
// than every TypeScript source of the workspace; otherwise loads the sources through tsx, so an edit
// is never hidden behind a stale bundle.
import { readdirSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"

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

let fresh = false
try {
  fresh = statSync(bundle).mtimeMs >= newestSource()
} catch {
  fresh = false
}
if (fresh && process.env.B3_CLI_FROM_SOURCE === undefined) {
  await import(bundle)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import("../src/bin.ts")
}
