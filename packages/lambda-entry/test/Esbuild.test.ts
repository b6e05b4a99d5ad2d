/**
 * The bundle recipe's built-in stand-ins (`Esbuild.builtinsWithoutFacade`): a static import of a
 * Node built-in becomes a read of `process.getBuiltinModule`, only the exports used are read, the
 * code behaves as with the real import, and `require()` / `import()` of built-ins are left alone.
 */
import { describe, expect, it } from "@effect/vitest"
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildOptions, builtinStandIn } from "../src/Esbuild.js"

const ENTRY = `
import * as https from "node:https"
import { createHash } from "crypto"
import path from "node:path"
export const handler = async () => {
  const fs = await import("node:fs/promises")
  const os = require("node:os")
  return {
    agent: new https.Agent({ keepAlive: true }) instanceof https.Agent,
    sha: createHash("sha256").update("b3").digest("hex"),
    joined: path.join("a", "b"),
    readFile: typeof fs.readFile,
    eol: os.EOL
  }
}
`

describe("Esbuild.builtinsWithoutFacade", () => {
  it("stands in for a built-in with its own object, one pure read per export", () => {
    const source = builtinStandIn("https")
    expect(source).toContain(`process.getBuiltinModule("node:https")`)
    expect(source).toContain(`export const Agent = /* @__PURE__ */ __b3get("Agent");`)
    expect(source).toContain(`export default __b3m;`)
  })

  it("bundles static imports of built-ins without ES imports, reading only what is used; the code works", async () => {
    const dir = mkdtempSync(join(tmpdir(), "b3-esbuild-"))
    try {
      writeFileSync(join(dir, "entry.ts"), ENTRY)
      const options = buildOptions({ entry: "entry.ts", outdir: join(dir, "out"), absWorkingDir: dir, minify: false })
      await esbuild.build({ ...options, logLevel: "silent" })
      const file = join(dir, "out", "index.mjs")
      const code = readFileSync(file, "utf8")
      // the static imports are gone; the banner's own node:module/url/path imports stay
      for (const m of ["node:https", "crypto", "node:crypto"]) expect(code).not.toMatch(new RegExp(`from "${m}"`))
      expect(code).toContain(`process.getBuiltinModule("node:https")`)
      expect(code).toContain(`process.getBuiltinModule("node:crypto")`)
      // only the exports used are read: https.Agent, not https.request or https.globalAgent
      expect(code).toMatch(/__b3get\d*\("Agent"\)/)
      expect(code).not.toMatch(/__b3get\d*\("request"\)/)
      expect(code).not.toMatch(/__b3get\d*\("globalAgent"\)/)
      // the dynamic import and the require() are left to Node
      expect(code).toContain(`import("node:fs/promises")`)
      const out = execFileSync(process.execPath, [
        "--input-type=module",
        "-e",
        `const { handler } = await import(${
          JSON.stringify(`file://${file}`)
        }); console.log(JSON.stringify(await handler()))`
      ], { encoding: "utf8" })
      expect(JSON.parse(out)).toEqual({
        agent: true,
        sha: createHash("sha256").update("b3").digest("hex"),
        joined: join("a", "b"),
        readFile: "function",
        eol: "\n"
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
