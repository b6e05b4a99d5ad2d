// Issue 11's infrastructure: serialized refine runs, nothing dropped (on-failure queues and alarms),
// freshness in Sao Paulo time, Athena over every raw partition, and the smaller items.
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Template } from "aws-cdk-lib/assertions"
import * as fs from "node:fs"
import * as path from "node:path"
import { GLACIER_IR_MIN_BYTES } from "../lib/constructs/Storage.js"
import { cdkJson, makeStack, removeScratch } from "./fixtures.js"

afterAll(removeScratch)

const { "@aws-cdk/core:validateAgainstDefaultRules": _validate, ...fastContext } = cdkJson.context
const { stack } = makeStack({}, fastContext)
const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties?: any }> }
const resources = Object.entries(json.Resources)
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type)
const idOf = (type: string, pred: (p: any) => boolean) => {
  const found = ofType(type).filter(([, r]) => pred(r.Properties ?? {}))
  assert.strictEqual(found.length, 1, `${type}: ${found.map(([id]) => id).join(", ")}`)
  const [hit] = found
  assert.isDefined(hit, type)
  return hit[0]
}
const props = (id: string) => {
  const resource = json.Resources[id]
  assert.isDefined(resource, id)
  return resource.Properties
}
const fnId = (name: string) => idOf("AWS::Lambda::Function", (p) => p.FunctionName === `b3-${name}-test`)
const queueId = (name: string) => idOf("AWS::SQS::Queue", (p) => p.QueueName === `b3-${name}-failed-test`)
const alarmNamed = (name: string) => props(idOf("AWS::CloudWatch::Alarm", (p) => p.AlarmName === `b3-${name}-test`))
const topicId = () => idOf("AWS::SNS::Topic", (p) => p.TopicName === "b3-alarms-test")

describe("refine runs are serialized and queued", () => {
  it("both jobs allow one run at a time and queue the others (WAITING, not ConcurrentRunsExceeded)", () => {
    for (const name of ["b3-refine-test", "b3-refine-visual-test"]) {
      const job = props(idOf("AWS::Glue::Job", (p) => p.Name === name))
      assert.strictEqual(job.ExecutionProperty.MaxConcurrentRuns, 1, name)
      assert.strictEqual(job.JobRunQueuingEnabled, true, name)
    }
  })

  it("the visual graph's UpdateJob resends the same rule (UpdateJob replaces the whole definition)", () => {
    const cr = props(idOf("Custom::GlueVisualGraph", () => true))
    const text = typeof cr.JobUpdate === "string" ? cr.JobUpdate : JSON.stringify(cr.JobUpdate)
    assert.match(text, /\\?"MaxConcurrentRuns\\?":1/)
    assert.match(text, /\\?"JobRunQueuingEnabled\\?":true/)
  })
})

describe("nothing dropped", () => {
  for (const name of ["onRawObjectCreated", "scheduledIngest"]) {
    it(`${name}: failed asynchronous invocations go to its SQS queue, and the queue is alarmed on`, () => {
      const config = props(idOf("AWS::Lambda::EventInvokeConfig", (p) => p.FunctionName.Ref === fnId(name)))
      assert.deepStrictEqual(config.DestinationConfig.OnFailure.Destination, {
        "Fn::GetAtt": [queueId(name), "Arn"]
      })
      assert.strictEqual(config.MaximumRetryAttempts, 2)
      const queue = props(queueId(name))
      assert.strictEqual(queue.MessageRetentionPeriod, 14 * 24 * 3600)
      assert.isTrue(queue.SqsManagedSseEnabled)
      const alarm = alarmNamed(name === "onRawObjectCreated" ? "TriggerFailedEvents" : "IngestFailedEvents")
      assert.strictEqual(alarm.MetricName, "ApproximateNumberOfMessagesVisible")
      assert.deepStrictEqual(alarm.Dimensions, [{
        Name: "QueueName",
        Value: { "Fn::GetAtt": [queueId(name), "QueueName"] }
      }])
      assert.strictEqual(alarm.Threshold, 1)
      assert.strictEqual(alarm.ComparisonOperator, "GreaterThanOrEqualToThreshold")
      assert.deepStrictEqual(alarm.AlarmActions, [{ Ref: topicId() }])
    })
  }

  it("a failed, timed-out, errored or stopped run of either refine job is matched, sent and alarmed on", () => {
    const ruleId = idOf("AWS::Events::Rule", (p) => p.Name === "b3-RefineRunFailed-test")
    const rule = props(ruleId)
    assert.deepStrictEqual(rule.EventPattern.source, ["aws.glue"])
    assert.deepStrictEqual(rule.EventPattern["detail-type"], ["Glue Job State Change"])
    assert.sameMembers(rule.EventPattern.detail.jobName, ["b3-refine-test", "b3-refine-visual-test"])
    assert.sameMembers(rule.EventPattern.detail.state, ["FAILED", "TIMEOUT", "ERROR", "STOPPED"])
    assert.deepStrictEqual(rule.Targets.map((t: any) => t.Arn), [{ Ref: topicId() }])
    const alarm = alarmNamed("RefineRunFailed")
    assert.strictEqual(alarm.Namespace, "AWS/Events")
    assert.strictEqual(alarm.MetricName, "TriggeredRules")
    assert.deepStrictEqual(alarm.Dimensions, [{ Name: "RuleName", Value: { Ref: ruleId } }])
  })

  it("a quarantined payload (error.json under quarantine/) is matched through the bucket's EventBridge events", () => {
    const notifications = props(idOf("Custom::S3BucketNotifications", () => true)).NotificationConfiguration
    assert.deepStrictEqual(notifications.EventBridgeConfiguration, {})
    const ruleId = idOf("AWS::Events::Rule", (p) => p.Name === "b3-PayloadQuarantined-test")
    const pattern = props(ruleId).EventPattern
    assert.deepStrictEqual(pattern["detail-type"], ["Object Created"])
    assert.deepStrictEqual(pattern.detail.object.key, [{ wildcard: "quarantine/*/error.json" }])
    const alarm = alarmNamed("PayloadQuarantined")
    assert.deepStrictEqual(alarm.Dimensions, [{ Name: "RuleName", Value: { Ref: ruleId } }])
  })

  it("the trigger's timeout leaves room for its retry budget", () => {
    const fn = props(fnId("onRawObjectCreated"))
    assert.isAtLeast(fn.Timeout, 60)
  })
})

describe("the day is never lost", () => {
  it("freshness: an alarm on MissingIndices (emitted by scheduledIngest after the Sao Paulo cutoff)", () => {
    const alarm = alarmNamed("IngestFreshness")
    assert.strictEqual(alarm.Namespace, "B3Pipeline")
    assert.strictEqual(alarm.MetricName, "MissingIndices")
    assert.deepStrictEqual(alarm.Dimensions, [{ Name: "Environment", Value: "test" }])
    assert.strictEqual(alarm.Threshold, 1)
    const env = props(fnId("scheduledIngest")).Environment.Variables
    assert.strictEqual(env.B3_METRICS_NAMESPACE, "B3Pipeline")
    assert.strictEqual(env.B3_ENVIRONMENT, "test")
    assert.strictEqual(env.B3_FRESHNESS_CUTOFF, "10:00")
    assert.match(alarm.AlarmDescription, /10:00 America\/Sao_Paulo/)
  })

  it("a cutoff that is not HH:MM is refused", () => {
    assert.throws(() => makeStack({ freshnessCutoff: "25:00" }, fastContext), /freshnessCutoff/)
  })
})

describe("scheduled reconcile (the ingest's last step)", () => {
  it("the ingest knows the script job and may start its runs and read the manifests", () => {
    const env = props(fnId("scheduledIngest")).Environment.Variables
    assert.strictEqual(env.B3_GLUE_JOB, "b3-refine-test")
    const roleId = props(fnId("scheduledIngest")).Role["Fn::GetAtt"][0]
    const policy = ofType("AWS::IAM::Policy").find(([, r]) => r.Properties.Roles.some((x: any) => x.Ref === roleId))!
    const bySid = Object.fromEntries(policy[1].Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]))
    assert.sameMembers(bySid.ReconcileRefine.Action, ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"])
    assert.include(JSON.stringify(bySid.ReadManifests.Resource), "_manifests/b3_portfolio_refined/*")
  })

  it("with the visual job (which writes no manifests) the ingest does not reconcile", () => {
    const visual = Template.fromStack(makeStack({ triggeredJob: "visual" }, fastContext).stack).toJSON()
    const fn = Object.values<any>(visual.Resources).find((r) =>
      r.Properties?.FunctionName === "b3-scheduledIngest-test"
    )
    assert.isUndefined(fn.Properties.Environment.Variables.B3_GLUE_JOB)
  })
})

describe("Athena sees every raw partition", () => {
  it("projects all 36 codes plus configured and extra ones (a way to add a code)", () => {
    const { stack: s2 } = makeStack({ indices: "IBOV,SMLL", extraIndexCodes: ["NEWX"] }, fastContext)
    const raw = Object.values<any>(Template.fromStack(s2).toJSON().Resources).find((r) =>
      r.Type === "AWS::Glue::Table" && r.Properties.TableInput.Name === "b3_portfolio_raw"
    )
    const codes = raw.Properties.TableInput.Parameters["projection.index_code.values"].split(",")
    assert.strictEqual(codes.length, ALL_INDEX_CODES.length + 1)
    assert.includeMembers(codes, [...ALL_INDEX_CODES, "NEWX"])
    assert.throws(() => makeStack({ extraIndexCodes: ["bad code"] }, fastContext), /index code/)
  })
})

describe("smaller items", () => {
  const rules = () => props(idOf("AWS::S3::Bucket", () => true)).LifecycleConfiguration.Rules as Array<any>

  it("refined/ (rewritten on each refine) removes its expired delete markers", () => {
    const refined = rules().find((r) => r.Id === "refined-noncurrent")
    assert.strictEqual(refined.Prefix, "refined/")
    assert.strictEqual(refined.ExpiredObjectDeleteMarker, true)
  })

  it("the Glacier IR transition states its size floor explicitly (Glacier IR bills 128 KiB minimum)", () => {
    const raw = rules().find((r) => r.Id === "raw-noncurrent-archive")
    assert.strictEqual(raw.ObjectSizeGreaterThan, GLACIER_IR_MIN_BYTES - 1)
    assert.strictEqual(raw.NoncurrentVersionTransitions[0].StorageClass, "GLACIER_IR")
  })

  it("no role has a fixed name (IAM is global: two regions would collide)", () => {
    for (const [id, r] of ofType("AWS::IAM::Role")) assert.isUndefined(r.Properties.RoleName, id)
  })

  it("the handlers run without --enable-source-maps, and their assets ship the bundles with their maps, no meta.json", () => {
    for (const name of ["onRawObjectCreated", "scheduledIngest"]) {
      const env = props(fnId(name)).Environment.Variables
      assert.notInclude(env.NODE_OPTIONS ?? "", "source-maps", name)
    }
    const { app, stack: fresh } = makeStack({}, fastContext)
    const assembly = app.synth()
    const resources = Object.values<any>(assembly.getStackArtifact(fresh.artifactId).template.Resources)
    for (const name of ["onRawObjectCreated", "scheduledIngest"]) {
      const fn = resources.find((r) =>
        r.Type === "AWS::Lambda::Function" && r.Properties.FunctionName === `b3-${name}-test`
      )
      const key = String(fn?.Properties.Code.S3Key)
      assert.match(key, /^[0-9a-f]{64}\.zip$/, name)
      const asset = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, "")}`)
      // the entry and its chunk, each with its map; the metafile left out
      const files = fs.readdirSync(asset).sort()
      assert.deepStrictEqual(files, ["chunk-STUB.mjs", "chunk-STUB.mjs.map", "index.mjs", "index.mjs.map"], name)
    }
  })

  it("a managed policy for people who query: the workgroup, the two tables, results", () => {
    const policy = props(idOf("AWS::IAM::ManagedPolicy", () => true)).PolicyDocument.Statement as Array<any>
    const bySid = Object.fromEntries(policy.map((s) => [s.Sid, s]))
    assert.include(bySid.Workgroup.Action, "athena:StartQueryExecution")
    assert.include(JSON.stringify(bySid.Workgroup.Resource), "workgroup/b3-pipeline-test")
    assert.include(bySid.Catalog.Action, "glue:GetPartitions")
    assert.lengthOf(bySid.ReadTables.Resource, 2)
    assert.deepStrictEqual(bySid.Results.Action.includes("s3:PutObject"), true)
    assert.isFalse(policy.some((s) => [s.Action].flat().some((a: string) => a.endsWith(":*"))))
  })
})
