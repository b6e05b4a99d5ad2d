/**
 * `withSourceStack`, as deployed: a minified esbuild bundle (with its `.map` beside it) runs in a
 * fresh `node` process without `--enable-source-maps`; an error it throws names the bundle's
 * position, and once mapped names the TypeScript source line too.
 */
import { assert, describe, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { mapStack, withSourceStack } from "../src/internal/stack.js"

const stackModule = fileURLToPath(new URL("../src/internal/stack.ts", import.meta.url))

const source = (importPath: string) =>
  [
    `import { withSourceStack } from ${JSON.stringify(importPath)}`,
    "const answer = (n: number): number => {",
    "  if (n > 1) {",
    "    throw new Error(`too big: ${n}`)",
    "  }",
    "  return n",
    "}",
    "export const run = (): { before: string; after: string } => {",
    "  try {",
    "    answer(2)",
    "    return { before: \"\", after: \"\" }",
    "  } catch (e) {",
    "    const before = (e as Error).stack!",
    "    return { before, after: withSourceStack(e as Error).stack! }",
    "  }",
    "}",
    ""
  ].join("\n")

describe("withSourceStack", () => {
  it("maps a minified bundle's frames to the TypeScript source, in a process without --enable-source-maps", async () => {
    const dir = mkdtempSync(join(tmpdir(), "b3-stack-"))
    try {
      writeFileSync(join(dir, "thrower.ts"), source(stackModule))
      const out = join(dir, "out", "index.mjs")
      await esbuild.build({
        entryPoints: [join(dir, "thrower.ts")],
        outfile: out,
        bundle: true,
        format: "esm",
        platform: "node",
        minify: true,
        sourcemap: "linked",
        logLevel: "silent"
      })
      const script = `const { run } = await import(${
        JSON.stringify(pathToFileURL(out).href)
      }); console.log(JSON.stringify(run()))`
      const printed = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        env: { PATH: process.env["PATH"] ?? "" }
      })
      const { after, before } = JSON.parse(printed) as { before: string; after: string }
      assert.match(before, /index\.mjs:\d+:\d+/)
      assert.notMatch(before, /thrower\.ts/)
      // the throw is on line 4 of the source, whatever column the minifier put it at
      assert.match(after, /thrower\.ts:4:\d+ \[file:\/\/.*index\.mjs:\d+:\d+\]/)
      assert.match(after, /^Error: too big: 2\n/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("leaves frames without a map, and values without a stack, as they were", () => {
    const foreign = "Error: x\n    at f (/nowhere/else.mjs:10:20)"
    assert.strictEqual(mapStack(foreign), foreign)
    const value = { _tag: "Oops" }
    assert.strictEqual(withSourceStack(value), value)
    assert.deepStrictEqual(value, { _tag: "Oops" })
    assert.strictEqual(withSourceStack("text"), "text")
  })
})
