/**
 * The test-only entry of @b3-pipeline/aws-adapter (`@b3-pipeline/aws-adapter/testing`): an s3rver S3
 * emulator as a scoped resource (`startS3rver`). Needs the optional peer dependency `s3rver`.
 *
 * @since 0.1.0
 */
export * from "./S3rver.js"
