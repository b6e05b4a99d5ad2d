import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import * as Tables from "@b3-pipeline/core/Tables"
import { readRefineSql, readValidationQueries } from "@b3-pipeline/glue/GlueAssets"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Match, Template } from "aws-cdk-lib/assertions"
import { cdkJson, makeStack, removeScratch } from "./fixtures.js"

afterAll(removeScratch)

// The schema validation (validateAgainstDefaultRules) runs in synth.test.ts; here it is off for speed.
const { "@aws-cdk/core:validateAgainstDefaultRules": _validate, ...fastContext } = cdkJson.context
const { stack } = makeStack({}, fastContext)
const template = Template.fromStack(stack)
const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties?: any }> }
const resources = Object.entries(json.Resources)
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type)
const one = (type: string, pred: (p: any) => boolean = () => true) => {
  const found = ofType(type).filter(([, r]) => pred(r.Properties ?? {}))
  assert.strictEqual(found.length, 1, `${type}: ${found.map(([id]) => id).join(", ")}`)
  const [hit] = found
  assert.isDefined(hit, type)
  return hit[1].Properties
}
const fnNamed = (name: string) => one("AWS::Lambda::Function", (p) => p.FunctionName === `b3-${name}-test`)
const logicalIdOf = (type: string, pred: (p: any) => boolean) => {
  const hit = ofType(type).find(([, r]) => pred(r.Properties ?? {}))
  assert.isDefined(hit, type)
  return hit[0]
}

/** Turns an intrinsic into text with `<Ref>` placeholders (enough to read a Fn::Join'ed JSON string). */
const flatten = (v: any): string =>
  typeof v === "string"
    ? v
    : v?.["Fn::Join"] !== undefined
    ? (v["Fn::Join"][1] as Array<any>).map(flatten).join(v["Fn::Join"][0])
    : v?.Ref !== undefined
    ? `<${v.Ref}>`
    : v?.["Fn::GetAtt"] !== undefined
    ? `<${(v["Fn::GetAtt"] as Array<string>).join(".")}>`
    : JSON.stringify(v)

const statementsOf = (): Array<{ where: string; statement: any }> => {
  const out: Array<{ where: string; statement: any }> = []
  const add = (where: string, doc: any) => {
    for (const s of doc?.Statement ?? []) out.push({ where, statement: s })
  }
  for (const [id, r] of resources) {
    const p = r.Properties ?? {}
    if (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy" || r.Type === "AWS::S3::BucketPolicy") {
      add(id, p.PolicyDocument)
    }
    if (r.Type === "AWS::IAM::Role") {
      add(`${id}.AssumeRolePolicyDocument`, p.AssumeRolePolicyDocument)
      for (const inline of p.Policies ?? []) add(`${id}.${inline.PolicyName}`, inline.PolicyDocument)
    }
  }
  return out
}
const asArray = (v: unknown): Array<unknown> => (Array.isArray(v) ? v : v === undefined ? [] : [v])

describe("data bucket", () => {
  it("blocks public access, enforces SSL, encrypts and versions", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }]
      },
      VersioningConfiguration: { Status: "Enabled" }
    })
    const policy = one("AWS::S3::BucketPolicy").PolicyDocument
    assert.deepInclude(policy.Statement, {
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
      Effect: "Deny",
      Principal: { AWS: "*" },
      Resource: policy.Statement[0].Resource
    })
    assert.isTrue(policy.Statement.every((s: any) => s.Effect === "Deny"), "the bucket policy grants nothing")
  })

  it("expires athena-results/ and scopes version history with lifecycle rules (raw noncurrent kept)", () => {
    const rules = one("AWS::S3::Bucket").LifecycleConfiguration.Rules as Array<any>
    const byId = Object.fromEntries(rules.map((r) => [r.Id, r]))
    assert.strictEqual(byId["athena-results"].Prefix, "athena-results/")
    assert.strictEqual(byId["athena-results"].ExpirationInDays, 30)
    assert.strictEqual(byId["refined-noncurrent"].NoncurrentVersionExpiration.NoncurrentDays, 7)
    const raw = byId["raw-noncurrent-archive"]
    assert.strictEqual(raw.Prefix, "raw/")
    assert.isUndefined(raw.NoncurrentVersionExpiration, "raw history never expires")
    assert.isUndefined(raw.ExpirationInDays)
    assert.strictEqual(raw.NoncurrentVersionTransitions[0].StorageClass, "GLACIER_IR")
    const expiring = rules.filter((r) =>
      r.ExpirationInDays !== undefined || r.NoncurrentVersionExpiration !== undefined
    )
    assert.isTrue(expiring.every((r) => typeof r.Prefix === "string" && !r.Prefix.startsWith("raw")))
  })
})

describe("raw object trigger", () => {
  it("notifies onRawObjectCreated for raw/b3_portfolio_raw/*.parquet only", () => {
    const config = one("Custom::S3BucketNotifications").NotificationConfiguration
    assert.strictEqual(config.LambdaFunctionConfigurations.length, 1)
    const n = config.LambdaFunctionConfigurations[0]
    assert.strictEqual(n.Events[0], "s3:ObjectCreated:*")
    assert.sameDeepMembers(n.Filter.Key.FilterRules, [
      { Name: "prefix", Value: Tables.RAW_PREFIX },
      { Name: "suffix", Value: ".parquet" }
    ])
    const triggerId = logicalIdOf("AWS::Lambda::Function", (p) => p.FunctionName === "b3-onRawObjectCreated-test")
    assert.deepStrictEqual(n.LambdaFunctionArn, { "Fn::GetAtt": [triggerId, "Arn"] })
  })

  it("runs on nodejs22.x with the bucket and the job in its environment", () => {
    const fn = fnNamed("onRawObjectCreated")
    assert.strictEqual(fn.Runtime, "nodejs22.x")
    assert.strictEqual(fn.Handler, "index.handler")
    assert.strictEqual(fn.Environment.Variables.B3_GLUE_JOB, "b3-refine-test")
    assert.deepStrictEqual(fn.Environment.Variables.B3_BUCKET, { Ref: logicalIdOf("AWS::S3::Bucket", () => true) })
    assert.strictEqual(fn.Environment.Variables.B3_DATABASE, "default")
  })

  it("may only start and read runs of the refine job", () => {
    const roleId = fnNamed("onRawObjectCreated").Role["Fn::GetAtt"][0]
    const statements = statementsOf().filter((s) => s.where.startsWith(roleId.replace(/[0-9A-F]{8}$/, "")))
    const grants = statements.filter((s) => s.statement.Effect === "Allow" && s.where.indexOf("AssumeRole") < 0)
    const glue = grants.filter((s) => asArray(s.statement.Action).some((a) => String(a).startsWith("glue:")))
    assert.strictEqual(glue.length, 1)
    const [grant] = glue
    assert.isDefined(grant)
    assert.sameMembers(asArray(grant.statement.Action) as Array<string>, [
      "glue:StartJobRun",
      "glue:GetJobRuns",
      "glue:GetJobRun"
    ])
    assert.strictEqual(grant.statement.Resource, "arn:aws:glue:sa-east-1:123456789012:job/b3-refine-test")
    const others = grants.filter((s) => !asArray(s.statement.Action).some((a) => String(a).startsWith("glue:")))
    const actions = others.flatMap((s) => asArray(s.statement.Action) as Array<string>)
    assert.sameMembers(actions.filter((a) => a.startsWith("logs:")), ["logs:CreateLogStream", "logs:PutLogEvents"])
    // the rest: sending a failed event to its own on-failure queue, nothing else
    const queueId = logicalIdOf("AWS::SQS::Queue", (p) => p.QueueName === "b3-onRawObjectCreated-failed-test")
    for (const s of others.filter((s) => !asArray(s.statement.Action).some((a) => String(a).startsWith("logs:")))) {
      assert.isTrue(asArray(s.statement.Action).every((a) => String(a).startsWith("sqs:")), JSON.stringify(s))
      assert.deepStrictEqual(s.statement.Resource, { "Fn::GetAtt": [queueId, "Arn"] })
    }
  })

  it("can target the visual job instead", () => {
    const visual = Template.fromStack(makeStack({ triggeredJob: "visual" }, fastContext).stack).toJSON()
    const fn = Object.values<any>(visual.Resources).find((r) =>
      r.Properties?.FunctionName === "b3-onRawObjectCreated-test"
    )
    assert.strictEqual(fn.Properties.Environment.Variables.B3_GLUE_JOB, "b3-refine-visual-test")
    assert.include(JSON.stringify(visual), "job/b3-refine-visual-test")
  })
})

describe("scheduled ingest", () => {
  it("runs every 30 minutes 07:00-12:30 Mon-Fri in Sao Paulo time, with a scheduled-event input", () => {
    const schedule = one("AWS::Scheduler::Schedule")
    assert.strictEqual(schedule.ScheduleExpression, "cron(0/30 7-12 ? * MON-FRI *)")
    assert.strictEqual(schedule.ScheduleExpressionTimezone, "America/Sao_Paulo")
    const target = schedule.Target
    assert.deepStrictEqual(target.Arn, {
      "Fn::GetAtt": [logicalIdOf("AWS::Lambda::Function", (p) => p.FunctionName === "b3-scheduledIngest-test"), "Arn"]
    })
    const input = JSON.parse(target.Input)
    assert.strictEqual(input["detail-type"], "Scheduled Event")
    assert.strictEqual(input.time, "<aws.scheduler.scheduled-time>")
    assert.strictEqual(target.RetryPolicy.MaximumRetryAttempts, 2)
    assert.isDefined(target.DeadLetterConfig.Arn)
    assert.strictEqual(
      ofType("AWS::Events::Rule").filter(([, r]) => r.Properties.ScheduleExpression !== undefined).length,
      0
    )
    const fn = fnNamed("scheduledIngest")
    assert.strictEqual(fn.Environment.Variables.B3_FRESHNESS_CUTOFF, "10:00")
    assert.strictEqual(fn.Runtime, "nodejs22.x")
    assert.strictEqual(fn.Environment.Variables.B3_INDICES, "IBOV")
  })

  it("writes raw/ (and quarantine/) only", () => {
    const roleId = fnNamed("scheduledIngest").Role["Fn::GetAtt"][0]
    const grants = statementsOf().filter((s) =>
      s.where.startsWith(roleId.replace(/[0-9A-F]{8}$/, "")) && s.statement.Effect === "Allow" &&
      s.where.indexOf("Assume") < 0
    )
    const writes = grants.filter((s) => asArray(s.statement.Action).includes("s3:PutObject"))
    assert.strictEqual(writes.length, 1)
    const [write] = writes
    assert.isDefined(write)
    const resources = asArray(write.statement.Resource).map(flatten).sort()
    assert.deepStrictEqual(resources, [
      `<${logicalIdOf("AWS::S3::Bucket", () => true)}.Arn>/quarantine/*`,
      `<${logicalIdOf("AWS::S3::Bucket", () => true)}.Arn>/raw/*`
    ])
    // glue: only starting and reading runs of the refine job (the reconcile), on that job alone
    const glue = grants.filter((s) => asArray(s.statement.Action).some((a) => String(a).startsWith("glue:")))
    assert.strictEqual(glue.length, 1)
    assert.sameMembers(asArray(glue[0]!.statement.Action) as Array<string>, [
      "glue:StartJobRun",
      "glue:GetJobRuns",
      "glue:GetJobRun"
    ])
    assert.strictEqual(glue[0]!.statement.Resource, "arn:aws:glue:sa-east-1:123456789012:job/b3-refine-test")
    assert.isFalse(grants.some((s) => asArray(s.statement.Action).includes("s3:DeleteObject")))
  })
})

describe("glue jobs", () => {
  it("script job: Glue 5.0, G.1X x 2, bookmarks off, script and SQL shipped as assets", () => {
    const job = one("AWS::Glue::Job", (p) => p.Name === "b3-refine-test")
    assert.strictEqual(job.GlueVersion, "5.0")
    assert.strictEqual(job.WorkerType, "G.1X")
    assert.strictEqual(job.NumberOfWorkers, 2)
    assert.strictEqual(job.Command.Name, "glueetl")
    assert.match(flatten(job.Command.ScriptLocation), /^s3:\/\/cdk-[^/]+\/[0-9a-f]{64}\.py$/)
    const args = job.DefaultArguments
    assert.deepStrictEqual(args["--bucket"], { Ref: logicalIdOf("AWS::S3::Bucket", () => true) })
    assert.strictEqual(args["--enable-glue-datacatalog"], "true")
    assert.strictEqual(args["--job-bookmark-option"], "job-bookmark-disable")
    assert.match(flatten(args["--extra-files"]), /^s3:\/\/cdk-[^/]+\/[0-9a-f]{64}\.sql$/)
    assert.strictEqual(flatten(args["--extra-files"]).split("/").pop(), args["--refine_sql"])
    assert.strictEqual(args["--database"], Tables.DATABASE)
    assert.strictEqual(args["--refined_table"], Tables.REFINED_TABLE)
    assert.strictEqual(args["--raw_table"], Tables.RAW_TABLE)
  })

  it("visual job: created VISUAL, graph applied by a custom resource carrying refine.sql", () => {
    const job = one("AWS::Glue::Job", (p) => p.Name === "b3-refine-visual-test")
    assert.strictEqual(job.JobMode, "VISUAL")
    assert.isUndefined(job.CodeGenConfigurationNodes)
    const cr = one("Custom::GlueVisualGraph")
    assert.strictEqual(cr.JobName, "b3-refine-visual-test")
    const update = JSON.parse(flatten(cr.JobUpdate))
    assert.strictEqual(update.JobMode, "VISUAL")
    assert.strictEqual(update.NumberOfWorkers, 2)
    const nodes = Object.values<any>(update.CodeGenConfigurationNodes)
    assert.strictEqual(nodes.find((n) => n.SparkSQL)?.SparkSQL.SqlQuery, readRefineSql())
    const target = nodes.find((n) => n.S3GlueParquetTarget).S3GlueParquetTarget
    assert.deepStrictEqual(target.PartitionKeys, [["ref_date"], ["ticker"]])
    assert.match(target.Path, /^s3:\/\/<DataBucket[0-9A-F]+>\/refined\/b3_portfolio_refined\/$/)
    assert.notStrictEqual(
      flatten(job.Command.ScriptLocation),
      flatten(one("AWS::Glue::Job", (p) => p.Name === "b3-refine-test").Command.ScriptLocation)
    )
    const applyFn = one(
      "AWS::Lambda::Function",
      (p) =>
        p.Handler === "index.handler" && p.FunctionName === undefined && p.Runtime === "nodejs22.x" && p.Timeout === 120
    )
    assert.strictEqual(applyFn.Runtime, "nodejs22.x")
  })
})

describe("catalog and Athena", () => {
  it("defines both tables in default from Tables.ts; raw projects ref_date/index_code, refined registers partitions", () => {
    const raw = one("AWS::Glue::Table", (p) => p.TableInput.Name === Tables.RAW_TABLE)
    assert.strictEqual(raw.DatabaseName, "default")
    assert.deepStrictEqual(
      raw.TableInput.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type]),
      Tables.rawColumns.map((c) => [c.name, c.type])
    )
    assert.deepStrictEqual(raw.TableInput.PartitionKeys.map((c: any) => c.Name), ["ref_date", "index_code"])
    assert.strictEqual(raw.TableInput.Parameters["projection.enabled"], "true")
    assert.strictEqual(raw.TableInput.Parameters["projection.ref_date.type"], "date")
    // every code B3 serves (the CLI's --all writes 36), not only the configured ones
    const projected = raw.TableInput.Parameters["projection.index_code.values"].split(",")
    assert.includeMembers(projected, [...ALL_INDEX_CODES])
    assert.strictEqual(projected.length, ALL_INDEX_CODES.length)
    assert.strictEqual(raw.TableInput.Parameters["projection.index_code.type"], "enum")
    const refined = one("AWS::Glue::Table", (p) => p.TableInput.Name === Tables.REFINED_TABLE)
    assert.deepStrictEqual(
      refined.TableInput.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type]),
      Tables.refinedColumns.map((c) => [c.name, c.type])
    )
    assert.deepStrictEqual(refined.TableInput.PartitionKeys.map((c: any) => c.Name), ["ref_date", "ticker"])
    assert.isUndefined(refined.TableInput.Parameters["projection.enabled"])
    assert.match(flatten(refined.TableInput.StorageDescriptor.Location), /\/refined\/b3_portfolio_refined\/$/)
    assert.strictEqual(
      refined.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary,
      "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
  })

  it("the workgroup enforces athena-results/ and carries every validation query", () => {
    const wg = one("AWS::Athena::WorkGroup").WorkGroupConfiguration
    assert.isTrue(wg.EnforceWorkGroupConfiguration)
    assert.match(flatten(wg.ResultConfiguration.OutputLocation), /^s3:\/\/<DataBucket[0-9A-F]+>\/athena-results\/$/)
    const queries = ofType("AWS::Athena::NamedQuery").map(([, r]) => r.Properties)
    const files = readValidationQueries()
    assert.isAbove(files.length, 0)
    assert.sameMembers(queries.map((q) => q.QueryString), files.map((f) => f.sql))
    assert.isTrue(queries.every((q) => q.Database === "default" && q.WorkGroup === "b3-pipeline-test"))
  })
})

/** Allow statements with a "*" or service-wide action, NotAction/NotResource, or a "*" resource. */
const wildcardFindings = (list: Array<{ where: string; statement: any }>): Array<string> =>
  list.filter((s) => s.statement.Effect === "Allow").flatMap(({ statement, where }) => [
    ...asArray(statement.Action).filter((a) => a === "*" || /:\*$/.test(String(a))).map((a) => `${where}: action ${a}`),
    ...(statement.NotAction !== undefined ? [`${where}: NotAction`] : []),
    ...(statement.NotResource !== undefined ? [`${where}: NotResource`] : []),
    ...(statement.Principal === undefined && asArray(statement.Resource).includes("*") ? [`${where}: resource *`] : [])
  ])

describe("IAM", () => {
  const statements = statementsOf()

  it("no policy grants a \"*\" action or a \"*\" resource (every policy document of the template)", () => {
    assert.isAbove(statements.length, 15)
    assert.deepStrictEqual(wildcardFindings(statements), [])
  })

  it("the walk catches wildcards (so the check above can fail)", () => {
    const bad = [
      { where: "a", statement: { Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b/*" } },
      { where: "b", statement: { Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b" } },
      { where: "c", statement: { Effect: "Allow", Action: ["glue:StartJobRun"], Resource: ["*"] } },
      { where: "d", statement: { Effect: "Deny", Action: "s3:*", Resource: "*" } }
    ]
    assert.deepStrictEqual(wildcardFindings(bad), ["a: action *", "b: action s3:*", "c: resource *"])
  })

  it("the glue role reads raw/, writes refined/ and touches only the two catalog tables", () => {
    const glueRoleId = logicalIdOf(
      "AWS::IAM::Role",
      (p) => p.AssumeRolePolicyDocument.Statement[0].Principal.Service === "glue.amazonaws.com"
    )
    const grants = statements.filter((s) =>
      s.where.startsWith(glueRoleId.replace(/[0-9A-F]{8}$/, "")) && s.statement.Effect === "Allow" &&
      s.where.indexOf("Assume") < 0
    )
    const resourcesFor = (action: string) =>
      grants.filter((s) => asArray(s.statement.Action).includes(action)).flatMap((s) =>
        asArray(s.statement.Resource).map(flatten)
      )
    for (const a of ["s3:PutObject", "s3:DeleteObject", "glue:BatchCreatePartition", "s3:GetObject"]) {
      assert.isAbove(resourcesFor(a).length, 0, a)
    }
    assert.isTrue(
      resourcesFor("s3:PutObject").every((r) =>
        /\/(refined\/b3_portfolio_refined|glue-temp\/|glue-scripts\/generated\/|_manifests\/b3_portfolio_refined\/)\*$/
          .test(r)
      )
    )
    assert.isTrue(
      resourcesFor("s3:DeleteObject").every((r) => /\/(refined\/b3_portfolio_refined|glue-temp\/)\*$/.test(r))
    )
    assert.isTrue(
      resourcesFor("glue:BatchCreatePartition").every((r) =>
        /:(catalog|database\/default|table\/default\/b3_portfolio_(raw|refined))$/.test(r)
      )
    )
  })

  it("the stack's own roles attach no managed policies", () => {
    for (const [id, r] of ofType("AWS::IAM::Role")) {
      if (/^(GlueJobRole|onRawObjectCreatedRole|scheduledIngestRole|ApplyVisualGraphFnRole)/.test(id)) {
        assert.isUndefined(r.Properties.ManagedPolicyArns, id)
      }
    }
  })
})

describe("props", () => {
  it("rejects an environment name that cannot be part of resource names", () => {
    assert.throws(() => makeStack({ envName: "Prod_1" }, fastContext), /envName/)
  })

  it("the handlers' log groups have a retention", () => {
    template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: "/aws/lambda/b3-onRawObjectCreated-test",
      RetentionInDays: Match.anyValue()
    })
  })
})
