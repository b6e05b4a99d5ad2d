/**
 * The two handlers and what invokes them.
 *
 * - `onRawObjectCreated`: the bucket notification on `raw/b3_portfolio_raw/*.parquet`. It starts the
 *   refine of the object's date (coalesced per date, see Refine.ts).
 * - `scheduledIngest`: EventBridge Scheduler in **America/Sao_Paulo** time, every 30 minutes from
 *   07:00 to 12:30 on weekdays. Each run fetches only the configured indices whose day is not yet
 *   archived (a later run finds the day archived and fetches nothing), so a B3 or S3 outage at 07:30
 *   is retried by the next runs instead of losing the day. After the freshness cutoff it reports,
 *   as a CloudWatch metric, how many configured indices still have no archived payload for the day.
 *   (B3 holidays: the schedule runs on weekdays; the handler skips B3 holidays with core's B3Calendar.)
 *   Its last step is the **reconcile**: every raw date whose refine manifest (`_manifests/`) does not
 *   match the raw table gets a run of the refine job, so a lost S3 event or a failed run heals at the
 *   next scheduled run. Only with the script job, which writes manifests (the visual job does not:
 *   every date would look stale to the reconcile).
 *
 * Both handlers' asynchronous invocations (S3 notifications, the scheduler) retry twice and then go
 * to an SQS on-failure queue each, alarmed on in Alarms.ts: a failed event is kept, never discarded.
 *
 * @since 0.1.0
 */
import { QUARANTINE_PREFIX, RAW_PREFIX } from "@b3-pipeline/core/Tables"
import { DATABASE } from "@b3-pipeline/core/Tables"
import { MANIFEST_PREFIX } from "@b3-pipeline/core/Trigger"
import * as cdk from "aws-cdk-lib"
import * as iam from "aws-cdk-lib/aws-iam"
import type * as lambda from "aws-cdk-lib/aws-lambda"
import * as s3 from "aws-cdk-lib/aws-s3"
import * as s3n from "aws-cdk-lib/aws-s3-notifications"
import * as scheduler from "aws-cdk-lib/aws-scheduler"
import * as schedulerTargets from "aws-cdk-lib/aws-scheduler-targets"
import * as sqs from "aws-cdk-lib/aws-sqs"
import type { Construct } from "constructs"
import type { Naming } from "./common.js"
import { EnvVar, handlerFunction, METRICS_NAMESPACE } from "./common.js"
import type { Refine } from "./Refine.js"
import type { Storage } from "./Storage.js"

/** The trigger's timeout: its whole retry budget (GlueRefineJob) fits inside it. @category ingest */
export const TRIGGER_TIMEOUT_SECONDS = 60

/** @category props */
export interface IngestProps {
  readonly naming: Naming
  readonly storage: Storage
  readonly refine: Refine
  readonly lambdaCode: { readonly onRawObjectCreated: string; readonly scheduledIngest: string }
  /** Indices the scheduled ingest fetches (comma-separated B3 codes). */
  readonly indices: string
  /** The ingest schedule. Default: every 30 minutes 07:00-12:30 Mon-Fri, America/Sao_Paulo. */
  readonly schedule?: scheduler.ScheduleExpression | undefined
  /** Sao Paulo wall-clock time (HH:MM) after which a day not archived counts as missing. Default 10:00. */
  readonly freshnessCutoff?: string | undefined
}

/** @category constructs */
export class Ingest {
  readonly onRawObjectCreated: lambda.Function
  readonly scheduledIngest: lambda.Function
  /** Asynchronous invocations that failed every attempt, one queue per handler. */
  readonly failed: { readonly onRawObjectCreated: sqs.Queue; readonly scheduledIngest: sqs.Queue }
  readonly schedule: scheduler.Schedule
  readonly freshnessCutoff: string

  constructor(scope: Construct, props: IngestProps) {
    const { naming, refine, storage } = props
    const bucket = storage.bucket
    const cutoff = props.freshnessCutoff ?? "10:00"
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(cutoff)) throw new Error(`freshnessCutoff must be HH:MM, got ${cutoff}`)
    this.freshnessCutoff = cutoff

    const failedQueue = (id: string) =>
      new sqs.Queue(scope, `${id}Failed`, {
        queueName: naming.name(`${id}-failed`),
        retentionPeriod: cdk.Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true
      })
    this.failed = {
      onRawObjectCreated: failedQueue("onRawObjectCreated"),
      scheduledIngest: failedQueue("scheduledIngest")
    }

    // ---- raw object trigger ------------------------------------------------------------------------
    const trigger = handlerFunction(scope, "onRawObjectCreated", {
      naming,
      code: props.lambdaCode.onRawObjectCreated,
      description: "Starts the Glue refine of the date of each raw Parquet object created (coalesced per date)",
      environment: {
        [EnvVar.bucket]: bucket.bucketName,
        [EnvVar.glueJob]: refine.triggeredJobName,
        [EnvVar.database]: DATABASE
      },
      timeout: cdk.Duration.seconds(TRIGGER_TIMEOUT_SECONDS),
      onFailure: this.failed.onRawObjectCreated
    })
    this.onRawObjectCreated = trigger.fn
    trigger.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "StartRefine",
        actions: ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"],
        resources: [naming.arn.job(refine.triggeredJobName)]
      })
    )
    bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(trigger.fn),
      { prefix: RAW_PREFIX, suffix: ".parquet" }
    )

    // ---- scheduled ingest --------------------------------------------------------------------------
    const reconciles = refine.triggeredJobName === refine.scriptJobName
    const ingest = handlerFunction(scope, "scheduledIngest", {
      naming,
      code: props.lambdaCode.scheduledIngest,
      description: "Fetches the B3 Carteira do Dia of the configured indices not yet archived today and writes raw/",
      environment: {
        [EnvVar.bucket]: bucket.bucketName,
        [EnvVar.indices]: props.indices,
        [EnvVar.database]: DATABASE,
        [EnvVar.freshnessCutoff]: cutoff,
        [EnvVar.metricsNamespace]: METRICS_NAMESPACE,
        [EnvVar.environment]: naming.env,
        ...(reconciles ? { [EnvVar.glueJob]: refine.scriptJobName } : {})
      },
      timeout: cdk.Duration.minutes(5),
      onFailure: this.failed.scheduledIngest,
      // The next scheduled run (30 minutes later) retries anyway; an event older than that is stale.
      maxEventAge: cdk.Duration.minutes(30)
    })
    this.scheduledIngest = ingest.fn
    ingest.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "WriteRaw",
        // Get: the raw write is idempotent (head first, identical bytes are not rewritten).
        // quarantine/: payloads that fail to parse are kept with their error (raw bytes are never lost).
        actions: ["s3:GetObject", "s3:PutObject"],
        resources: [storage.objects("raw/"), storage.objects(QUARANTINE_PREFIX)]
      })
    )
    ingest.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListRaw",
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        conditions: {
          StringLike: {
            "s3:prefix": ["raw/*", `${QUARANTINE_PREFIX}*`, ...(reconciles ? [`${MANIFEST_PREFIX}*`] : [])]
          }
        }
      })
    )
    if (reconciles) {
      ingest.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "ReadManifests",
          actions: ["s3:GetObject"],
          resources: [storage.objects(MANIFEST_PREFIX)]
        })
      )
      ingest.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "ReconcileRefine",
          actions: ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"],
          resources: [naming.arn.job(refine.scriptJobName)]
        })
      )
    }

    // EventBridge Scheduler (not an EventBridge rule): it takes a time zone, so the schedule is in Sao
    // Paulo wall-clock time whatever the UTC offset. Its own retries cover delivery; the invocation is
    // asynchronous, so Lambda's retries and the on-failure queue cover the handler's failures.
    this.schedule = new scheduler.Schedule(scope, "IngestSchedule", {
      scheduleName: naming.name("ingest"),
      description: "B3 weekdays, every 30 minutes 07:00-12:30 America/Sao_Paulo, until the day is archived",
      schedule: props.schedule ??
        scheduler.ScheduleExpression.cron({
          minute: "0/30",
          hour: "7-12",
          weekDay: "MON-FRI",
          timeZone: cdk.TimeZone.AMERICA_SAO_PAULO
        }),
      target: new schedulerTargets.LambdaInvoke(ingest.fn, {
        // The shape of an EventBridge scheduled event, which the handler decodes.
        input: scheduler.ScheduleTargetInput.fromObject({
          id: scheduler.ContextAttribute.executionId,
          "detail-type": "Scheduled Event",
          source: "aws.scheduler",
          time: scheduler.ContextAttribute.scheduledTime
        }),
        retryAttempts: 2,
        maxEventAge: cdk.Duration.minutes(30),
        deadLetterQueue: this.failed.scheduledIngest
      })
    })
  }
}
