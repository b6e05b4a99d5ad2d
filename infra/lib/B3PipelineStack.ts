/**
 * The AWS deployment of b3-pipeline: one stack per environment name.
 *
 * data bucket (raw/, refined/, quarantine/, athena-results/, glue-*) -> S3 event on raw Parquet ->
 * onRawObjectCreated Lambda -> Glue refine job -> refined/ + Glue Data Catalog (`default`) -> Athena
 * workgroup with the validation queries. A scheduled Lambda fetches B3 on trading days and writes raw/.
 *
 * @since 0.1.0
 */
import type { Column, TableDef } from "@b3-pipeline/core/Catalog"
import {
  DATABASE,
  QUARANTINE_PREFIX,
  RAW_PREFIX,
  RAW_TABLE,
  REFINED_PREFIX,
  REFINED_TABLE
} from "@b3-pipeline/core/Tables"
import { rawTable, refinedTable } from "@b3-pipeline/core/Tables"
import { jobScriptPath, readValidationQueries, refineSqlPath } from "@b3-pipeline/glue/GlueAssets"
import { loadVisualSources, toJobUpdate, visualJobRequest } from "@b3-pipeline/glue/visualJob"
import * as cdk from "aws-cdk-lib"
import * as athena from "aws-cdk-lib/aws-athena"
import * as events from "aws-cdk-lib/aws-events"
import * as targets from "aws-cdk-lib/aws-events-targets"
import * as glue from "aws-cdk-lib/aws-glue"
import * as iam from "aws-cdk-lib/aws-iam"
import * as lambda from "aws-cdk-lib/aws-lambda"
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs"
import * as logs from "aws-cdk-lib/aws-logs"
import * as s3 from "aws-cdk-lib/aws-s3"
import * as s3assets from "aws-cdk-lib/aws-s3-assets"
import * as s3n from "aws-cdk-lib/aws-s3-notifications"
import * as cr from "aws-cdk-lib/custom-resources"
import type { Construct } from "constructs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Environment variables the Lambdas read (names shared with aws-adapter's AwsLive). @category config */
export const EnvVar = {
  bucket: "B3_BUCKET",
  glueJob: "B3_GLUE_JOB",
  database: "B3_DATABASE",
  athenaWorkgroup: "B3_ATHENA_WORKGROUP",
  indices: "B3_INDICES"
} as const

/** Bucket prefixes owned by the stack (beside Tables.ts's raw/ refined/ quarantine/). @category names */
export const Prefix = {
  athenaResults: "athena-results/",
  glueTemp: "glue-temp/",
  glueScripts: "glue-scripts/"
} as const

/** @category props */
export interface B3PipelineStackProps extends cdk.StackProps {
  /** `dev`, `prod`...: part of every resource name. Lowercase letters, digits and `-`. */
  readonly envName: string
  /** Folders holding each handler's bundle (`index.mjs` exporting `handler`), e.g. packages/lambda-entry/dist/<name>/. */
  readonly lambdaCode: { readonly onRawObjectCreated: string; readonly scheduledIngest: string }
  /** Indices the scheduled ingest fetches (comma-separated B3 codes). Default `IBOV`. */
  readonly indices?: string
  /** Days before objects under athena-results/ expire. Default 30. */
  readonly athenaResultsExpirationDays?: number
  /** Days noncurrent versions of derived prefixes (refined/, glue-*, athena-results/, quarantine/) are kept. Default 7. */
  readonly derivedNoncurrentDays?: number
  /** Days before noncurrent raw versions move to Glacier Instant Retrieval (they never expire). Default 30. */
  readonly rawNoncurrentTransitionDays?: number
  /** Schedule of the ingest (UTC). Default 10:30 UTC (07:30 BRT) Monday to Friday. */
  readonly schedule?: events.Schedule
  /** Which Glue job the raw-object trigger starts: the script job (default) or the visual one. */
  readonly triggeredJob?: "script" | "visual"
  /** Destroy the bucket with the stack (only for throwaway environments). Default false (RETAIN). */
  readonly destroyData?: boolean
}

const here = path.dirname(fileURLToPath(import.meta.url))

const column = (c: Column): glue.CfnTable.ColumnProperty =>
  c.comment === undefined ? { name: c.name, type: c.type } : { name: c.name, type: c.type, comment: c.comment }

/** Glue/Hive storage descriptor of a Parquet table from core's TableDef. @category catalog */
export const tableInput = (
  table: TableDef,
  bucketName: string,
  parameters: Record<string, string>
): glue.CfnTable.TableInputProperty => ({
  name: table.name,
  ...(table.comment !== undefined ? { description: table.comment } : {}),
  tableType: "EXTERNAL_TABLE",
  parameters: { classification: "parquet", EXTERNAL: "TRUE", "parquet.compression": "SNAPPY", ...parameters },
  partitionKeys: table.partitionKeys.map(column),
  storageDescriptor: {
    location: `s3://${bucketName}/${table.location}`,
    inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    serdeInfo: {
      serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
      parameters: { "serialization.format": "1" }
    },
    columns: table.columns.map(column),
    compressed: false,
    storedAsSubDirectories: false
  }
})

/** @category stack */
export class B3PipelineStack extends cdk.Stack {
  readonly bucket: s3.Bucket
  readonly scriptJobName: string
  readonly visualJobName: string
  readonly workgroupName: string
  readonly onRawObjectCreated: lambda.Function
  readonly scheduledIngest: lambda.Function

  constructor(scope: Construct, id: string, props: B3PipelineStackProps) {
    super(scope, id, props)
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(props.envName)) {
      throw new Error(`envName must match ^[a-z][a-z0-9-]{0,19}$, got ${JSON.stringify(props.envName)}`)
    }
    const env = props.envName
    const name = (s: string) => `b3-${s}-${env}`
    this.scriptJobName = name("refine")
    this.visualJobName = name("refine-visual")
    this.workgroupName = name("pipeline")
    const { account, partition, region } = cdk.Stack.of(this)
    const derivedDays = cdk.Duration.days(props.derivedNoncurrentDays ?? 7)

    // ---- data bucket -------------------------------------------------------------------------------
    // S3 versioning is bucket-wide; what it keeps is scoped per prefix by lifecycle rules: raw/ is the
    // only history (noncurrent raw versions are kept forever, moved to Glacier IR), every other prefix
    // is derived or scratch and its noncurrent versions expire after a few days.
    this.bucket = new s3.Bucket(this, "DataBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.destroyData === true ? cdk.RemovalPolicy.DESTROY : cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: "abort-multipart", abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) },
        {
          id: "athena-results",
          prefix: Prefix.athenaResults,
          expiration: cdk.Duration.days(props.athenaResultsExpirationDays ?? 30),
          noncurrentVersionExpiration: cdk.Duration.days(1)
        },
        {
          id: "glue-temp",
          prefix: Prefix.glueTemp,
          expiration: derivedDays,
          noncurrentVersionExpiration: cdk.Duration.days(1)
        },
        { id: "glue-scripts-noncurrent", prefix: Prefix.glueScripts, noncurrentVersionExpiration: derivedDays },
        { id: "refined-noncurrent", prefix: "refined/", noncurrentVersionExpiration: derivedDays },
        { id: "quarantine-noncurrent", prefix: QUARANTINE_PREFIX, noncurrentVersionExpiration: derivedDays },
        {
          id: "raw-noncurrent-archive",
          prefix: "raw/",
          noncurrentVersionTransitions: [{
            storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transitionAfter: cdk.Duration.days(props.rawNoncurrentTransitionDays ?? 30)
          }]
        }
      ]
    })
    const bucket = this.bucket
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`)
    // A table's objects, plus the folder key itself and Hadoop's `<folder>_$folder$` marker, which
    // Spark/EMRFS HEADs before listing (a 403 there fails the read or the write).
    const tableObjects = (prefix: string) => bucket.arnForObjects(`${prefix.replace(/\/$/, "")}*`)
    const s3Url = (prefix: string) => `s3://${bucket.bucketName}/${prefix}`

    // Lambda roles: only what each handler needs, logs on its own log group (no AWSLambdaBasicExecutionRole,
    // whose statements use Resource "*").
    const lambdaRole = (id: string, logGroup: logs.LogGroup, description: string) => {
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        description
      })
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: "Logs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [logGroup.logGroupArn]
        })
      )
      return role
    }
    // ---- Glue job role -----------------------------------------------------------------------------
    const glueRole = new iam.Role(this, "GlueJobRole", {
      roleName: name("glue-job"),
      assumedBy: new iam.ServicePrincipal("glue.amazonaws.com"),
      description: "b3-pipeline refine jobs: read raw/, write refined/, keep the catalog tables current"
    })
    const catalogArn = `arn:${partition}:glue:${region}:${account}:catalog`
    const databaseArn = `arn:${partition}:glue:${region}:${account}:database/${DATABASE}`
    const tableArn = (t: string) => `arn:${partition}:glue:${region}:${account}:table/${DATABASE}/${t}`
    const jobArn = (j: string) => `arn:${partition}:glue:${region}:${account}:job/${j}`
    const scriptAsset = new s3assets.Asset(this, "RefineScript", { path: jobScriptPath })
    const sqlAsset = new s3assets.Asset(this, "RefineSql", { path: refineSqlPath })
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
          StringLike: { "s3:prefix": ["raw/*", "refined/*", `${Prefix.glueTemp}*`, `${Prefix.glueScripts}*`] }
        }
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({ sid: "ReadRaw", actions: ["s3:GetObject"], resources: [tableObjects(RAW_PREFIX)] })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteRefinedAndScratch",
        actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [tableObjects(REFINED_PREFIX), objects(Prefix.glueTemp)]
      })
    )
    glueRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "GeneratedVisualScript",
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [objects(`${Prefix.glueScripts}generated/`)]
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
        resources: [catalogArn, databaseArn, tableArn(RAW_TABLE), tableArn(REFINED_TABLE)]
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
      "--TempDir": s3Url(Prefix.glueTemp),
      "--database": DATABASE,
      "--raw_table": RAW_TABLE,
      "--refined_table": REFINED_TABLE
    }
    const scriptJob = new glue.CfnJob(this, "RefineJob", {
      name: this.scriptJobName,
      description: "b3-pipeline refine (script): raw date -> refined/ with dynamic partition overwrite",
      role: glueRole.roleArn,
      glueVersion: "5.0",
      workerType: "G.1X",
      numberOfWorkers: 2,
      timeout: 30,
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: 3 },
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
    const visualScriptLocation = s3Url(`${Prefix.glueScripts}generated/refine_visual.py`)
    const visualJob = new glue.CfnJob(this, "RefineVisualJob", {
      name: this.visualJobName,
      description: "b3-pipeline refine (Glue Studio visual graph, applied by the ApplyVisualGraph custom resource)",
      role: glueRole.roleArn,
      jobMode: "VISUAL",
      glueVersion: "5.0",
      workerType: "G.1X",
      numberOfWorkers: 2,
      timeout: 30,
      maxRetries: 0,
      executionProperty: { maxConcurrentRuns: 1 },
      command: { name: "glueetl", pythonVersion: "3", scriptLocation: visualScriptLocation },
      defaultArguments: { ...commonArgs, "--job-language": "python" }
    })
    const visualRequest = visualJobRequest({
      ...loadVisualSources(),
      bucket: bucket.bucketName,
      jobName: this.visualJobName,
      roleArn: glueRole.roleArn,
      scriptLocation: visualScriptLocation,
      tempDir: s3Url(Prefix.glueTemp)
    })
    const applyLogs = new logs.LogGroup(this, "ApplyVisualGraphLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: cdk.RemovalPolicy.DESTROY
    })
    const applyFn = new nodejs.NodejsFunction(this, "ApplyVisualGraphFn", {
      role: lambdaRole("ApplyVisualGraphFn", applyLogs, "Applies the visual refine job's graph (glue:UpdateJob)"),
      entry: path.join(here, "..", "lambda", "applyVisualJob.ts"),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: cdk.Duration.minutes(2),
      logGroup: applyLogs,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        minify: true,
        externalModules: [], // bundle @aws-sdk/client-glue: the runtime's copy may predate the node kinds used
        forceDockerBundling: false
      }
    })
    applyFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "UpdateVisualJob",
        actions: ["glue:UpdateJob", "glue:GetJob"],
        resources: [jobArn(this.visualJobName)]
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
        resources: [objects(`${Prefix.glueScripts}generated/`)]
      })
    )
    const provider = new cr.Provider(this, "ApplyVisualGraphProvider", {
      onEventHandler: applyFn,
      logGroup: new logs.LogGroup(this, "ApplyVisualGraphProviderLogs", {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: cdk.RemovalPolicy.DESTROY
      })
    })
    const applyGraph = new cdk.CustomResource(this, "ApplyVisualGraph", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::GlueVisualGraph",
      properties: {
        JobName: this.visualJobName,
        // JSON text: CloudFormation would turn numbers and booleans of a nested object into strings.
        JobUpdate: cdk.Stack.of(this).toJsonString(toJobUpdate(visualRequest))
      }
    })
    applyGraph.node.addDependency(visualJob)

    // ---- catalog tables ----------------------------------------------------------------------------
    // Raw: partition projection on ref_date (date) and index_code (enum of the ingested indices), so new
    // raw partitions need no registration for Athena. Refined: ticker cannot be projected (injected forces
    // every query to name a ticker, enum needs the list up front), so its partitions are registered by the
    // refine jobs.
    const indices = props.indices ?? "IBOV"
    new glue.CfnTable(this, "RawTable", {
      catalogId: account,
      databaseName: DATABASE,
      tableInput: tableInput(rawTable, bucket.bucketName, {
        "projection.enabled": "true",
        "projection.ref_date.type": "date",
        "projection.ref_date.format": "yyyy-MM-dd",
        "projection.ref_date.range": "2020-01-01,NOW",
        "projection.ref_date.interval": "1",
        "projection.ref_date.interval.unit": "DAYS",
        "projection.index_code.type": "enum",
        "projection.index_code.values": indices,
        "storage.location.template": `${s3Url(RAW_PREFIX)}ref_date=\${ref_date}/index_code=\${index_code}/`
      })
    })
    new glue.CfnTable(this, "RefinedTable", {
      catalogId: account,
      databaseName: DATABASE,
      tableInput: tableInput(refinedTable, bucket.bucketName, {})
    })

    // ---- Lambdas -----------------------------------------------------------------------------------
    const triggeredJob = props.triggeredJob === "visual" ? this.visualJobName : this.scriptJobName
    const lambdaFunction = (
      id: string,
      code: string,
      description: string,
      environment: Record<string, string>,
      timeout: cdk.Duration
    ) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        logGroupName: `/aws/lambda/${name(id)}`,
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: cdk.RemovalPolicy.DESTROY
      })
      const role = lambdaRole(id, logGroup, description)
      const fn = new lambda.Function(this, id, {
        functionName: name(id),
        description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        handler: "index.handler",
        code: lambda.Code.fromAsset(code),
        memorySize: 512,
        timeout,
        role,
        logGroup,
        environment: { NODE_OPTIONS: "--enable-source-maps", ...environment }
      })
      return { fn, role }
    }

    const trigger = lambdaFunction(
      "onRawObjectCreated",
      props.lambdaCode.onRawObjectCreated,
      "Starts the Glue refine of the date of each raw Parquet object created",
      { [EnvVar.bucket]: bucket.bucketName, [EnvVar.glueJob]: triggeredJob, [EnvVar.database]: DATABASE },
      cdk.Duration.seconds(30)
    )
    this.onRawObjectCreated = trigger.fn
    trigger.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "StartRefine",
        actions: ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"],
        resources: [jobArn(triggeredJob)]
      })
    )
    bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(trigger.fn),
      { prefix: RAW_PREFIX, suffix: ".parquet" }
    )

    const ingest = lambdaFunction(
      "scheduledIngest",
      props.lambdaCode.scheduledIngest,
      "Fetches the B3 Carteira do Dia of the configured indices and writes raw/ (B3 trading days)",
      { [EnvVar.bucket]: bucket.bucketName, [EnvVar.indices]: indices, [EnvVar.database]: DATABASE },
      cdk.Duration.minutes(5)
    )
    this.scheduledIngest = ingest.fn
    ingest.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteRaw",
        // Get: the raw write is idempotent (head first, identical bytes are not rewritten).
        // quarantine/: payloads that fail to parse are kept with their error (raw bytes are never lost).
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [objects("raw/"), objects(QUARANTINE_PREFIX)]
      })
    )
    ingest.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListRaw",
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { "s3:prefix": ["raw/*", `${QUARANTINE_PREFIX}*`] } }
      })
    )
    // B3 publishes the day's portfolio before the open; holidays are skipped by the handler (B3 answers
    // with the previous portfolio or nothing, and an identical payload is not rewritten).
    new events.Rule(this, "IngestSchedule", {
      ruleName: name("ingest"),
      description: "B3 trading days (Mon-Fri) 10:30 UTC = 07:30 BRT",
      schedule: props.schedule ?? events.Schedule.cron({ minute: "30", hour: "10", weekDay: "MON-FRI" }),
      targets: [new targets.LambdaFunction(ingest.fn, { retryAttempts: 2, maxEventAge: cdk.Duration.hours(2) })]
    })

    // ---- Athena ------------------------------------------------------------------------------------
    const workgroup = new athena.CfnWorkGroup(this, "Workgroup", {
      name: this.workgroupName,
      description: "b3-pipeline queries; results forced to athena-results/",
      recursiveDeleteOption: true,
      state: "ENABLED",
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: 10 * 1024 * 1024 * 1024,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: s3Url(Prefix.athenaResults),
          encryptionConfiguration: { encryptionOption: "SSE_S3" }
        }
      }
    })
    for (const query of readValidationQueries()) {
      const named = new athena.CfnNamedQuery(this, `Query-${query.name}`, {
        name: `b3 ${query.name}`,
        description: `glue/sql/validation/${query.name}.sql`,
        database: DATABASE,
        workGroup: this.workgroupName,
        queryString: query.sql
      })
      named.node.addDependency(workgroup)
    }

    new cdk.CfnOutput(this, "BucketName", { value: bucket.bucketName })
    new cdk.CfnOutput(this, "RefineJobName", { value: scriptJob.ref })
    new cdk.CfnOutput(this, "RefineVisualJobName", { value: visualJob.ref })
    new cdk.CfnOutput(this, "TriggeredJobName", { value: triggeredJob })
    new cdk.CfnOutput(this, "AthenaWorkgroup", { value: workgroup.ref })
  }
}
