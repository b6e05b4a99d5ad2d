import { GetJobCommand, GlueClient, UpdateJobCommand } from "@aws-sdk/client-glue"
import { loadVisualSources, toJobUpdate, visualJobRequest } from "@b3-pipeline/glue/visualJob"
import { assert, beforeEach, describe, it } from "@effect/vitest"
import { mockClient } from "aws-sdk-client-mock"

process.env.AWS_REGION ??= "sa-east-1"
const { handler } = await import("../lambda/applyVisualJob.js")

const glue = mockClient(GlueClient)
const update = toJobUpdate(visualJobRequest({
  ...loadVisualSources(),
  bucket: "data-bucket",
  jobName: "b3-refine-visual-test",
  roleArn: "arn:aws:iam::123456789012:role/glue",
  scriptLocation: "s3://data-bucket/glue-scripts/generated/refine_visual.py",
  tempDir: "s3://data-bucket/glue-temp/"
}))
const event = (RequestType: "Create" | "Update" | "Delete") => ({
  RequestType,
  PhysicalResourceId: "b3-refine-visual-test",
  ResourceProperties: { JobName: "b3-refine-visual-test", JobUpdate: JSON.stringify(update) }
})

describe("ApplyVisualGraph custom resource handler", () => {
  beforeEach(() => glue.reset())

  it("sends the whole definition to UpdateJob with its types intact, then checks every node arrived", async () => {
    glue.on(UpdateJobCommand).resolves({ JobName: "b3-refine-visual-test" })
    glue.on(GetJobCommand).resolves({ Job: { Name: "b3-refine-visual-test", ...update } })
    const out = await handler(event("Create"))
    assert.strictEqual(out.PhysicalResourceId, "b3-refine-visual-test")
    const calls = glue.commandCalls(UpdateJobCommand)
    assert.strictEqual(calls.length, 1)
    const [call] = calls
    assert.isDefined(call)
    const sent = call.args[0].input
    assert.strictEqual(sent.JobName, "b3-refine-visual-test")
    assert.deepStrictEqual(sent.JobUpdate, update)
    assert.strictEqual(sent.JobUpdate?.NumberOfWorkers, 2)
    assert.strictEqual(sent.JobUpdate?.JobMode, "VISUAL")
    assert.strictEqual(out.Data?.Nodes, String(Object.keys(update.CodeGenConfigurationNodes!).length))
  })

  it("fails the deployment when Glue stored fewer nodes than were sent", async () => {
    const { node_refine_sql: _dropped, ...rest } = update.CodeGenConfigurationNodes!
    glue.on(UpdateJobCommand).resolves({})
    glue.on(GetJobCommand).resolves({ Job: { ...update, CodeGenConfigurationNodes: rest } })
    let error: unknown
    await handler(event("Update")).catch((e) => (error = e))
    assert.match(String(error), /lost nodes \[node_refine_sql\]/)
  })

  it("does nothing on Delete (the job goes with its CfnJob)", async () => {
    const out = await handler(event("Delete"))
    assert.strictEqual(out.PhysicalResourceId, "b3-refine-visual-test")
    assert.strictEqual(glue.calls().length, 0)
  })
})
