/**
 * What tells a person something went wrong, on one SNS topic:
 *
 * - an asynchronous invocation of either handler failed every attempt (its on-failure queue is not
 *   empty): an S3 event or a scheduled ingest that Lambda gave up on;
 * - a run of either refine job ended FAILED, TIMEOUT, ERROR or STOPPED (Glue's job state-change
 *   event, matched by an EventBridge rule whose matches are alarmed on and sent to the topic);
 * - a payload was quarantined (an `error.json` created under quarantine/, seen through the bucket's
 *   EventBridge notifications): B3 changing its format or endpoint is what silently breaks scrapers;
 * - freshness: after the cutoff (Sao Paulo time) on a weekday, a configured index still has no
 *   archived payload for the day (metric `MissingIndices`, emitted by scheduledIngest).
 *
 * @since 0.1.0
 */
import { QUARANTINE_PREFIX } from "@b3-pipeline/core/Tables"
import * as cdk from "aws-cdk-lib"
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch"
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions"
import * as events from "aws-cdk-lib/aws-events"
import * as targets from "aws-cdk-lib/aws-events-targets"
import * as sns from "aws-cdk-lib/aws-sns"
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions"
import type * as sqs from "aws-cdk-lib/aws-sqs"
import type { Construct } from "constructs"
import type { Naming } from "./common.js"
import { METRICS_NAMESPACE } from "./common.js"
import type { Ingest } from "./Ingest.js"
import type { Refine } from "./Refine.js"
import type { Storage } from "./Storage.js"

/** The freshness metric scheduledIngest emits (Embedded Metric Format). @category names */
export const FRESHNESS_METRIC = "MissingIndices"

/** Glue run states that end a run without its output. @category alarms */
export const FAILED_RUN_STATES = ["FAILED", "TIMEOUT", "ERROR", "STOPPED"] as const

/** @category props */
export interface AlarmsProps {
  readonly naming: Naming
  readonly storage: Storage
  readonly refine: Refine
  readonly ingest: Ingest
  /** An e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string | undefined
}

/** @category constructs */
export class Alarms {
  readonly topic: sns.Topic
  readonly alarms: ReadonlyArray<cloudwatch.Alarm>

  constructor(scope: Construct, props: AlarmsProps) {
    const { ingest, naming, refine, storage } = props
    this.topic = new sns.Topic(scope, "AlarmTopic", { topicName: naming.name("alarms"), enforceSSL: true })
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail))
    }
    const alarms: Array<cloudwatch.Alarm> = []
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(scope, id, {
        alarmName: naming.name(id),
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING
      })
      a.addAlarmAction(new cwActions.SnsAction(this.topic))
      alarms.push(a)
      return a
    }

    const queueAlarm = (id: string, queue: sqs.Queue, what: string) =>
      alarm(
        id,
        queue.metricApproximateNumberOfMessagesVisible({ period: cdk.Duration.minutes(5), statistic: "Maximum" }),
        `${what}: an asynchronous invocation failed every attempt and was kept in ${queue.node.id}`
      )
    queueAlarm("TriggerFailedEvents", ingest.failed.onRawObjectCreated, "onRawObjectCreated")
    queueAlarm("IngestFailedEvents", ingest.failed.scheduledIngest, "scheduledIngest")

    /** An EventBridge rule sent to the topic, and an alarm on its matches. */
    const ruleAlarm = (id: string, pattern: events.EventPattern, description: string) => {
      const rule = new events.Rule(scope, `${id}Rule`, {
        ruleName: naming.name(id),
        description,
        eventPattern: pattern,
        targets: [new targets.SnsTopic(this.topic)]
      })
      const metric = new cloudwatch.Metric({
        namespace: "AWS/Events",
        metricName: "TriggeredRules",
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: "Sum",
        period: cdk.Duration.minutes(5)
      })
      alarm(id, metric, description)
      return rule
    }
    ruleAlarm("RefineRunFailed", {
      source: ["aws.glue"],
      detailType: ["Glue Job State Change"],
      detail: { jobName: [refine.scriptJobName, refine.visualJobName], state: [...FAILED_RUN_STATES] }
    }, "A refine job run ended without its output (FAILED, TIMEOUT, ERROR or STOPPED)")
    ruleAlarm("PayloadQuarantined", {
      source: ["aws.s3"],
      detailType: ["Object Created"],
      detail: {
        bucket: { name: [storage.bucket.bucketName] },
        object: { key: events.Match.wildcard(`${QUARANTINE_PREFIX}*/error.json`) }
      }
    }, "A B3 payload failed to parse and was quarantined (B3 may have changed its format)")

    alarm(
      "IngestFreshness",
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: FRESHNESS_METRIC,
        dimensionsMap: { Environment: naming.env },
        statistic: "Maximum",
        period: cdk.Duration.minutes(30)
      }),
      `A configured index has no archived payload for the day after ${ingest.freshnessCutoff} America/Sao_Paulo`
    )
    this.alarms = alarms
  }
}
