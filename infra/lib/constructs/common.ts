/**
 * Names and helpers shared by the stack's constructs: environment variables the handlers read, the
 * bucket prefixes the stack owns, resource naming, and the Lambda function shape every handler uses.
 *
 * @since 0.1.0
 */
import * as cdk from "aws-cdk-lib"
import * as iam from "aws-cdk-lib/aws-iam"
import * as lambda from "aws-cdk-lib/aws-lambda"
import * as destinations from "aws-cdk-lib/aws-lambda-destinations"
import * as logs from "aws-cdk-lib/aws-logs"
import type * as sqs from "aws-cdk-lib/aws-sqs"
import type { Construct } from "constructs"

/** Environment variables the Lambdas read: aws-adapter's one definition (a module without SDK code). @category config */
export { EnvVar } from "@b3-pipeline/aws-adapter/EnvVar"

/** Bucket prefixes owned by the stack (beside Tables.ts's raw/ refined/ quarantine/). @category names */
export const Prefix = {
  athenaResults: "athena-results/",
  glueTemp: "glue-temp/",
  glueScripts: "glue-scripts/"
} as const

/** The CloudWatch namespace of the pipeline's own metrics (freshness). @category names */
export const METRICS_NAMESPACE = "B3Pipeline"

/** How every resource of one environment is named, and ARNs in this account and region. @category names */
export interface Naming {
  readonly env: string
  /** `b3-<s>-<env>` */
  readonly name: (s: string) => string
  readonly arn: {
    readonly catalog: string
    readonly database: (db: string) => string
    readonly table: (db: string, table: string) => string
    readonly job: (job: string) => string
  }
}

/** @category names */
export const naming = (scope: Construct, env: string): Naming => {
  const { account, partition, region } = cdk.Stack.of(scope)
  const glueArn = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`
  return {
    env,
    name: (s) => `b3-${s}-${env}`,
    arn: {
      catalog: glueArn("catalog"),
      database: (db) => glueArn(`database/${db}`),
      table: (db, t) => glueArn(`table/${db}/${t}`),
      job: (j) => glueArn(`job/${j}`)
    }
  }
}

/**
 * A Lambda role with only what the handler needs: logs on its own log group (no
 * AWSLambdaBasicExecutionRole, whose statements use Resource "*"). No fixed role name: IAM is
 * global, and a name would collide between two regions deploying the same environment.
 *
 * @category lambda
 */
export const lambdaRole = (scope: Construct, id: string, logGroup: logs.ILogGroup, description: string): iam.Role => {
  const role = new iam.Role(scope, `${id}Role`, {
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

/** @category lambda */
export interface HandlerProps {
  readonly naming: Naming
  /** Folder of the bundle (`index.mjs` exporting `handler`). */
  readonly code: string
  readonly description: string
  readonly environment: Record<string, string>
  readonly timeout: cdk.Duration
  /** Where an asynchronous invocation that failed every attempt (or expired) is sent. */
  readonly onFailure: sqs.IQueue
  /** Lambda's own retries of a failed asynchronous invocation (0-2). Default 2. */
  readonly retryAttempts?: number
  readonly maxEventAge?: cdk.Duration
}

/**
 * One of the pipeline's handlers on nodejs22.x (arm64), with its log group, its role, and an SQS
 * on-failure destination for its asynchronous invocations (S3 notifications, schedules): an event
 * Lambda gives up on is kept in the queue (and alarmed on), never discarded.
 *
 * The bundle ships with its source maps (each `.mjs` of the asset has its `.map` beside it; only a
 * stray `meta.json` is excluded) and the runtime runs without `--enable-source-maps`, which would
 * parse the maps on every cold start. The handlers read a map only when an error leaves them, to
 * name the TypeScript source lines in the stack Lambda logs (lambda-entry's `internal/stack.ts`);
 * the maps carry positions only, not the sources' text.
 *
 * @category lambda
 */
export const handlerFunction = (scope: Construct, id: string, props: HandlerProps) => {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    logGroupName: `/aws/lambda/${props.naming.name(id)}`,
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: cdk.RemovalPolicy.DESTROY
  })
  const role = lambdaRole(scope, id, logGroup, props.description)
  const fn = new lambda.Function(scope, id, {
    functionName: props.naming.name(id),
    description: props.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: "index.handler",
    code: lambda.Code.fromAsset(props.code, { exclude: ["meta.json"] }),
    memorySize: 512,
    timeout: props.timeout,
    role,
    logGroup,
    environment: props.environment,
    onFailure: new destinations.SqsDestination(props.onFailure),
    retryAttempts: props.retryAttempts ?? 2,
    maxEventAge: props.maxEventAge ?? cdk.Duration.hours(6)
  })
  return { fn, role, logGroup }
}
