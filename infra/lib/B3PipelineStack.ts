/**
 * The AWS deployment of b3-pipeline: one stack per environment name, assembled from four parts,
 * each readable alone (`constructs/`):
 *
 * - `Storage`: the data bucket (raw/, refined/, quarantine/, athena-results/, glue-*), lifecycle;
 * - `Refine`: the Glue job role, the script and visual refine jobs (one run at a time, queued);
 * - `Ingest`: scheduledIngest (Sao Paulo schedule) and onRawObjectCreated (S3 notification), each
 *   with an SQS on-failure queue;
 * - `Query`: the catalog tables, the Athena workgroup with the validation queries, the query policy;
 * - `Alarms`: one SNS topic for failed events, failed Glue runs, quarantined payloads, freshness.
 *
 * The parts create their resources in the stack's scope, so every logical ID is the one the
 * single-file stack had: a changed logical ID would make CloudFormation replace the (retained) data
 * bucket and recreate named jobs under a name that already exists.
 *
 * @since 0.1.0
 */
import * as cdk from "aws-cdk-lib"
import type * as lambda from "aws-cdk-lib/aws-lambda"
import type * as s3 from "aws-cdk-lib/aws-s3"
import type * as scheduler from "aws-cdk-lib/aws-scheduler"
import type { Construct } from "constructs"
import { Alarms } from "./constructs/Alarms.js"
import { naming } from "./constructs/common.js"
import { Ingest } from "./constructs/Ingest.js"
import { Query } from "./constructs/Query.js"
import { Refine } from "./constructs/Refine.js"
import { Storage } from "./constructs/Storage.js"

export { EnvVar, Prefix } from "./constructs/common.js"
export { tableInput } from "./constructs/Query.js"

/** @category props */
export interface B3PipelineStackProps extends cdk.StackProps {
  /** `dev`, `prod`...: part of every resource name. Lowercase letters, digits and `-`. */
  readonly envName: string
  /** Folders holding each handler's bundle (`index.mjs` exporting `handler`), e.g. packages/lambda-entry/dist/<name>/. */
  readonly lambdaCode: { readonly onRawObjectCreated: string; readonly scheduledIngest: string }
  /** Indices the scheduled ingest fetches (comma-separated B3 codes). Default `IBOV`. */
  readonly indices?: string
  /** Index codes beyond the 36 B3 serves today that Athena should see in the raw table. */
  readonly extraIndexCodes?: ReadonlyArray<string>
  /** Days before objects under athena-results/ expire. Default 30. */
  readonly athenaResultsExpirationDays?: number
  /** Days noncurrent versions of derived prefixes (refined/, glue-*, athena-results/, quarantine/) are kept. Default 7. */
  readonly derivedNoncurrentDays?: number
  /** Days before noncurrent raw versions (>= 128 KiB) move to Glacier Instant Retrieval (they never expire). Default 30. */
  readonly rawNoncurrentTransitionDays?: number
  /** Schedule of the ingest. Default every 30 minutes 07:00-12:30 Mon-Fri, America/Sao_Paulo. */
  readonly schedule?: scheduler.ScheduleExpression
  /** Sao Paulo time (HH:MM) after which a configured index without the day's payload alarms. Default 10:00. */
  readonly freshnessCutoff?: string
  /** An e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string
  /** Which Glue job the raw-object trigger starts: the script job (default) or the visual one. */
  readonly triggeredJob?: "script" | "visual"
  /** Destroy the bucket with the stack (only for throwaway environments). Default false (RETAIN). */
  readonly destroyData?: boolean
}

/** @category stack */
export class B3PipelineStack extends cdk.Stack {
  readonly bucket: s3.Bucket
  readonly scriptJobName: string
  readonly visualJobName: string
  readonly workgroupName: string
  readonly onRawObjectCreated: lambda.Function
  readonly scheduledIngest: lambda.Function
  readonly storage: Storage
  readonly refine: Refine
  readonly ingest: Ingest
  readonly query: Query
  readonly alarms: Alarms

  constructor(scope: Construct, id: string, props: B3PipelineStackProps) {
    super(scope, id, props)
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(props.envName)) {
      throw new Error(`envName must match ^[a-z][a-z0-9-]{0,19}$, got ${JSON.stringify(props.envName)}`)
    }
    const names = naming(this, props.envName)
    this.storage = new Storage(this, {
      athenaResultsExpirationDays: props.athenaResultsExpirationDays,
      derivedNoncurrentDays: props.derivedNoncurrentDays,
      rawNoncurrentTransitionDays: props.rawNoncurrentTransitionDays,
      destroyData: props.destroyData
    })
    this.refine = new Refine(this, { naming: names, storage: this.storage, triggeredJob: props.triggeredJob })
    const indices = props.indices ?? "IBOV"
    this.query = new Query(this, {
      naming: names,
      storage: this.storage,
      extraIndexCodes: [...indices.split(","), ...(props.extraIndexCodes ?? [])]
    })
    this.ingest = new Ingest(this, {
      naming: names,
      storage: this.storage,
      refine: this.refine,
      lambdaCode: props.lambdaCode,
      indices,
      schedule: props.schedule,
      freshnessCutoff: props.freshnessCutoff
    })
    this.alarms = new Alarms(this, {
      naming: names,
      storage: this.storage,
      refine: this.refine,
      ingest: this.ingest,
      alarmEmail: props.alarmEmail
    })

    this.bucket = this.storage.bucket
    this.scriptJobName = this.refine.scriptJobName
    this.visualJobName = this.refine.visualJobName
    this.workgroupName = this.query.workgroupName
    this.onRawObjectCreated = this.ingest.onRawObjectCreated
    this.scheduledIngest = this.ingest.scheduledIngest

    new cdk.CfnOutput(this, "BucketName", { value: this.bucket.bucketName })
    new cdk.CfnOutput(this, "RefineJobName", { value: this.refine.scriptJob.ref })
    new cdk.CfnOutput(this, "RefineVisualJobName", { value: this.refine.visualJob.ref })
    new cdk.CfnOutput(this, "TriggeredJobName", { value: this.refine.triggeredJobName })
    new cdk.CfnOutput(this, "AthenaWorkgroup", { value: this.query.workgroup.ref })
    new cdk.CfnOutput(this, "QueryPolicyArn", { value: this.query.queryPolicy.managedPolicyArn })
    new cdk.CfnOutput(this, "AlarmTopicArn", { value: this.alarms.topic.topicArn })
  }
}
