/**
 * The environment variables the deployed handlers read, named once: `AwsLive` and the Lambda
 * handlers read them, the CDK stack (infra) sets them. This module imports nothing, so infra can
 * use it without loading any AWS SDK client (`@b3-pipeline/aws-adapter/EnvVar`).
 *
 * @since 0.1.0
 */

/** @category config */
export const EnvVar = {
  region: "AWS_REGION",
  bucket: "B3_BUCKET",
  glueJob: "B3_GLUE_JOB",
  database: "B3_DATABASE",
  athenaWorkgroup: "B3_ATHENA_WORKGROUP",
  athenaOutput: "B3_ATHENA_OUTPUT",
  s3Endpoint: "B3_S3_ENDPOINT",
  indices: "B3_INDICES",
  /** HH:MM (Sao Paulo) from which a scheduled run reports the indices still missing that day. */
  freshnessCutoff: "B3_FRESHNESS_CUTOFF",
  /** CloudWatch namespace of the freshness metric. */
  metricsNamespace: "B3_METRICS_NAMESPACE",
  /** The `Environment` dimension of the freshness metric. */
  environment: "B3_ENVIRONMENT"
} as const
