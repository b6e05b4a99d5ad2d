import * as cdk from "aws-cdk-lib"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { B3PipelineStackProps } from "../lib/B3PipelineStack.js"
import { B3PipelineStack } from "../lib/B3PipelineStack.js"

export const infraRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const cdkJson = JSON.parse(fs.readFileSync(path.join(infraRoot, "cdk.json"), "utf8")) as {
  app: string
  context: Record<string, unknown>
}

// One scratch folder per test file (module instance); each test file removes it in afterAll.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "b3-infra-"))
export const removeScratch = () => fs.rmSync(scratch, { recursive: true, force: true })

/** Stand-ins for the lambda-entry bundles (the real ones are built by `npm run bundle`). */
export const stubLambdaCode = (): B3PipelineStackProps["lambdaCode"] => {
  const root = fs.mkdtempSync(path.join(scratch, "code-"))
  const dir = (name: string) => {
    const d = path.join(root, name)
    fs.mkdirSync(d)
    // what `npm run bundle` writes: the entry, a chunk it imports, a linked map beside each
    // (shipped), and a metafile (never shipped)
    fs.writeFileSync(
      path.join(d, "index.mjs"),
      `import { stub } from "./chunk-STUB.mjs"\nexport const handler = async () => ({ stub: stub(${
        JSON.stringify(name)
      }) })\n//# sourceMappingURL=index.mjs.map\n`
    )
    fs.writeFileSync(
      path.join(d, "chunk-STUB.mjs"),
      "export const stub = (name) => name\n//# sourceMappingURL=chunk-STUB.mjs.map\n"
    )
    for (const file of ["index.mjs", "chunk-STUB.mjs"]) {
      fs.writeFileSync(
        path.join(d, `${file}.map`),
        `${JSON.stringify({ version: 3, sources: [`../../src/${name}.ts`], names: [], mappings: "AAAA" })}\n`
      )
    }
    fs.writeFileSync(path.join(d, "meta.json"), "{}\n")
    return d
  }
  return { onRawObjectCreated: dir("onRawObjectCreated"), scheduledIngest: dir("scheduledIngest") }
}

export const makeStack = (
  props: Partial<B3PipelineStackProps> = {},
  context: Record<string, unknown> = cdkJson.context
) => {
  const app = new cdk.App({ context, outdir: fs.mkdtempSync(path.join(scratch, "cdk.out-")) })
  const stack = new B3PipelineStack(app, "B3Pipeline-test", {
    envName: "test",
    lambdaCode: stubLambdaCode(),
    env: { account: "123456789012", region: "sa-east-1" },
    ...props
  })
  return { app, stack }
}
