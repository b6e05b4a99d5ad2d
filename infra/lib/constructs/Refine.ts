/**
 * The refine: the Glue job role, the script job and the visual job (graph applied by a custom
 * resource calling `glue:UpdateJob`).
 *
 * Both jobs run ONE run at a time (`MaxConcurrentRuns: 1`) with Glue job run queuing on: a run
 * started while another runs waits (`WAITING`) instead of failing with
 * `ConcurrentRunsExceededException`. Serialized runs are what make the refine of a date safe to
 * repeat: no two runs write the same `ref_date` partitions at once, and a run's stale-ticker cleanup
 * can only remove files of runs that finished before it listed. The trigger
 * (`GlueRefineJob.start`) starts a run for a date unless one for that date is still waiting or
 * starting, so a burst of 36 index writes starts at most two runs per date.
 *
 * @since 0.1.0
 */
import { DATABASE, RAW_PREFIX, RAW_TABLE, REFINED_PREFIX, REFINED_TABLE } from "@b3-pipeline/core/Tables"
import { MANIFEST_PREFIX } from "@b3-pipeline/core/Trigger"
import { jobScriptPath, refineSqlPath } from "@b3-pipeline/glue/GlueAssets"
import { loadVisualSources, toJobUpdate, visualJobRequest } from "@b3-pipeline/glue/visualJob"
import * as cdk from "aws-cdk-lib"
import * as glue from "aws-cdk-lib/aws-glue"
import * as iam from "aws-cdk-lib/aws-iam"
import * as lambda from "aws-cdk-lib/aws-lambda"
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs"
import * as logs from "aws-cdk-lib/aws-logs"
import * as s3assets from "aws-cdk-lib/aws-s3-assets"
import * as cr from "aws-cdk-lib/custom-resources"
import type { Construct } from "constructs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Naming } from "./common.js"
import { lambdaRole, Prefix } from "./common.js"
import type { Storage } from "./Storage.js"

const here = path.dirname(fileURLToPath(import.meta.url))

/** Runs of a refine job at once: one (runs of either job are serialized). @category refine */
export const MAX_CONCURRENT_RUNS = 1

/** @category props */
export interface RefineProps {
  readonly naming: Naming
  readonly storage: Storage
  readonly triggeredJob?: "script" | "visual" | undefined
}

/** @category constructs */
export class Refine {
  readonly glueRole: iam.Role
  readonly scriptJobName: string
  readonly visualJobName: string
  /** The job the raw-object trigger and the reconcile start. */
  readonly triggeredJobName: string
  readonly scriptJob: glue.CfnJob
  readonly visualJob: glue.CfnJob

  constructor(scope: Construct, props: RefineProps) {
    const { naming, storage } = props
    const bucket = storage.bucket
    this.scriptJobName = naming.name("refine")
    this.visualJobName = naming.name("refine-visual")
    this.triggeredJobName = props.triggeredJob === "visual" ? this.visualJobName : this.scriptJobName
    const { partition, region, account } = cdk.Stack.of(scope)

    // ---- Glue job role (no fixed name: IAM is global, two regions would collide) ----------------
    const glueRole = new iam.Role(scope, "GlueJobRole", {
      assumedBy: new iam.ServicePrincipal("glue.amazonaws.com"),
      description: "b3-pipeline refine jobs: read raw/, write refined/, keep the catalog tables current"
    })
    this.glueRole = glueRole
    const scriptAsset = new s3assets.Asset(scope, "RefineScript", { path: jobScriptPath })
    const sqlAsset = new s3assets.Asset(scope, "RefineSql", { path: refineSqlPath })
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ShippedScriptAndSql",
        actions: ["s3:GetObject"],
        resources: [scriptAsset, sqlAsset].map((a) => `arn:${partition}:s3:::${a.s3BucketName}/${a.s3ObjectKey}`)
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListDataPrefixes",
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: {
          StringLike: {
            "s3:prefix": ["raw/*", "refined/*", `${MANIFEST_PREFIX}*`, `${Prefix.glueTemp}*`, `${Prefix.glueScripts}*`]
          }
        }
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ReadRaw",
        actions: ["s3:GetObject"],
        resources: [storage.tableObjects(RAW_PREFIX)]
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteRefinedAndScratch",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [storage.tableObjects(REFINED_PREFIX), storage.objects(Prefix.glueTemp)]
      })
    )
    // The refine manifests (core's Trigger): read to tell a stale next date, written last by each refine.
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "RefineManifests",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [storage.objects(MANIFEST_PREFIX)]
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "GeneratedVisualScript",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [storage.objects(`${Prefix.glueScripts}generated/`)]
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "CatalogTables",
        actions: [
          "glue:GetDatabase",
          "glue:GetTable",
          "glue:GetPartition",
          "glue:GetPartitions",
          "glue:BatchGetPartition",
          "glue:CreatePartition",
          "glue:BatchCreatePartition",
          "glue:UpdatePartition",
          "glue:BatchDeletePartition"
        ],
        resources: [
          naming.arn.catalog,
          naming.arn.database(DATABASE),
          naming.arn.table(DATABASE, RAW_TABLE),
          naming.arn.table(DATABASE, REFINED_TABLE)
        ]
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "JobLogs",
        actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [
          `arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/*`,
          `arn:${partition}:logs:${region}:${account}:log-group:/aws-glue/*:log-stream:*`
        ]
      })
    )

    // ---- Glue jobs ---------------------------------------------------------------------------------
    const commonArgs = {
      "--bucket": bucket.bucketName,
      "--enable-glue-datacatalog": "true",
      "--job-bookmark-option": "job-bookmark-disable",
      "--TempDir": storage.s3Url(Prefix.glueTemp),
      "--database": DATABASE,
      "--raw_table": RAW_TABLE,
      "--refined_table": REFINED_TABLE
    }
    // Both jobs: the same size, and one run at a time with later runs queued (never refused), so runs
    // of one job can never overwrite each other's partitions.
    const jobRuntime = {
      glueVersion: "5.0",
      workerType: "G.1X",
      numberOfWorkers: 2,
      timeout: 30,
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: MAX_CONCURRENT_RUNS },
      jobRunQueuingEnabled: true
    } satisfies Partial<glue.CfnJobProps>
    this.scriptJob = new glue.CfnJob(scope, "RefineJob", {
      name: this.scriptJobName,
      description: "b3-pipeline refine (script): raw date -> refined/ with dynamic partition overwrite",
      role: glueRole.roleArn,
      ...jobRuntime,
      command: { name: "glueetl", pythonVersion: "3", scriptLocation: scriptAsset.s3ObjectUrl },
      defaultArguments: {
        ...commonArgs,
        "--extra-files": sqlAsset.s3ObjectUrl,
        // --extra-files lands in the driver's working directory under the object's name (the asset hash).
        "--refine_sql": sqlAsset.s3ObjectKey
      }
    })

    // The visual job: CloudFormation's AWS::Glue::Job has no CodeGenConfigurationNodes (an override fails
    // synth under validateAgainstDefaultRules), so the job is created here in VISUAL mode and its graph is
    // pushed by a custom resource calling glue:UpdateJob. Its handler bundles a current @aws-sdk/client-glue
    // (the runtime's SDK may silently drop node kinds it does not know).
    const visualScriptLocation = storage.s3Url(`${Prefix.glueScripts}generated/refine_visual.py`)
    this.visualJob = new glue.CfnJob(scope, "RefineVisualJob", {
      name: this.visualJobName,
      description: "b3-pipeline refine (Glue Studio visual graph, applied by the ApplyVisualGraph custom resource)",
      role: glueRole.roleArn,
      jobMode: "VISUAL",
      ...jobRuntime,
      command: { name: "glueetl", pythonVersion: "3", scriptLocation: visualScriptLocation },
      defaultArguments: { ...commonArgs, "--job-language": "python" }
    })
    const visualRequest = visualJobRequest({
      ...loadVisualSources(),
      bucket: bucket.bucketName,
      jobName: this.visualJobName,
      roleArn: glueRole.roleArn,
      scriptLocation: visualScriptLocation,
      tempDir: storage.s3Url(Prefix.glueTemp)
    })
    const applyLogs = new logs.LogGroup(scope, "ApplyVisualGraphLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: cdk.RemovalPolicy.DESTROY
    })
    const applyFn = new nodejs.NodejsFunction(scope, "ApplyVisualGraphFn", {
      role: lambdaRole(
        scope,
        "ApplyVisualGraphFn",
        applyLogs,
        "Applies the visual refine job's graph (glue:UpdateJob)"
      ),
      entry: path.join(here, "..", "..", "lambda", "applyVisualJob.ts"),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: cdk.Duration.minutes(2),
      logGroup: applyLogs,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: false,
        externalModules: [], // bundle @aws-sdk/client-glue: the runtime's copy may predate the node kinds used
        forceDockerBundling: false
      }
    })
    applyFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "UpdateVisualJob",
        actions: ["glue:UpdateJob", "glue:GetJob"],
        resources: [naming.arn.job(this.visualJobName)]
      })
    )
    applyFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "PassGlueRole",
        actions: ["iam:PassRole"],
        resources: [glueRole.roleArn],
        conditions: { StringEquals: { "iam:PassedToService": "glue.amazonaws.com" } }
      })
    )
    applyFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "GeneratedScript",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: [storage.objects(`${Prefix.glueScripts}generated/`)]
      })
    )
    const provider = new cr.Provider(scope, "ApplyVisualGraphProvider", {
      onEventHandler: applyFn,
      logGroup: new logs.LogGroup(scope, "ApplyVisualGraphProviderLogs", {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: cdk.RemovalPolicy.DESTROY
      })
    })
    const applyGraph = new cdk.CustomResource(scope, "ApplyVisualGraph", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::GlueVisualGraph",
      properties: {
        JobName: this.visualJobName,
        // JSON text: CloudFormation would turn numbers and booleans of a nested object into strings.
        JobUpdate: cdk.Stack.of(scope).toJsonString(toJobUpdate(visualRequest))
      }
    })
    applyGraph.node.addDependency(this.visualJob)
  }
}
