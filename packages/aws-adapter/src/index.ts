/**
 * The AWS adapters (barrel). Inside the workspace, import by deep path
 * (`@b3-pipeline/aws-adapter/S3ObjectStore`) so bundles keep only what they use.
 *
 * @since 0.1.0
 */
export * as AthenaQueryEngine from "./AthenaQueryEngine.js"
export * as AwsClients from "./AwsClients.js"
export * as AwsLive from "./AwsLive.js"
export * as ClientAthena from "./ClientAthena.js"
export * as ClientConfig from "./ClientConfig.js"
export * as ClientGlue from "./ClientGlue.js"
export * as ClientS3 from "./ClientS3.js"
export * as GlueCatalog from "./GlueCatalog.js"
export * as GlueJobRuns from "./GlueJobRuns.js"
export * as GlueRefineJob from "./GlueRefineJob.js"
export * as HttpGlueJobRuns from "./HttpGlueJobRuns.js"
export * as S3ObjectStore from "./S3ObjectStore.js"
export * as SdkGlueJobRuns from "./SdkGlueJobRuns.js"
