import { afterAll, assert, describe, it } from "@effect/vitest"
import type * as glue from "aws-cdk-lib/aws-glue"
import * as fs from "node:fs"
import * as path from "node:path"
import { cdkJson, infraRoot, makeStack, removeScratch } from "./fixtures.js"

afterAll(removeScratch)

describe("cdk synth (offline, in-process, validateAgainstDefaultRules on)", () => {
  it("cdk.json runs bin/app.ts with tsx and turns the CloudFormation schema rules into errors", () => {
    assert.strictEqual(cdkJson.app, "npx tsx --conditions=@b3-pipeline/source bin/app.ts")
    assert.strictEqual(cdkJson.context["@aws-cdk/core:validateAgainstDefaultRules"], true)
    assert.isTrue(fs.existsSync(path.join(infraRoot, "bin", "app.ts")))
  })

  it("synthesizes the stack with no errors and writes the template and assets", () => {
    const { app, stack } = makeStack()
    const assembly = app.synth()
    const artifact = assembly.getStackByName(stack.stackName)
    const errors = artifact.messages.filter((m) => m.level === "error")
    assert.deepStrictEqual(errors, [])
    const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, artifact.templateFile), "utf8"))
    const types = new Set(Object.values<any>(template.Resources).map((r) => r.Type))
    for (
      const t of [
        "AWS::S3::Bucket",
        "AWS::Glue::Job",
        "AWS::Glue::Table",
        "AWS::Athena::WorkGroup",
        "Custom::GlueVisualGraph"
      ]
    ) {
      assert.isTrue(types.has(t), t)
    }
    const assets = fs.readdirSync(assembly.directory).filter((f) => f.startsWith("asset."))
    assert.isAtLeast(assets.length, 4) // script, SQL, two handlers, the graph applier
  })

  it("the same synth fails when the graph is forced into AWS::Glue::Job (why the custom resource exists)", () => {
    const { app, stack } = makeStack()
    const job = stack.node.findChild("RefineVisualJob") as glue.CfnJob
    job.addPropertyOverride("CodeGenConfigurationNodes", {
      n: { SparkSQL: { Name: "x", Inputs: [], SqlQuery: "SELECT 1", SqlAliases: [] } }
    })
    assert.throws(() => app.synth(), /CodeGenConfigurationNodes|Additional properties/)
  })
})
