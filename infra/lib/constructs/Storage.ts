/**
 * The data bucket: raw/, refined/, quarantine/, athena-results/, glue-*.
 *
 * S3 versioning is bucket-wide; what it keeps is scoped per prefix by lifecycle rules: raw/ is the
 * only history (noncurrent raw versions are kept forever; those of 128 KiB or more move to Glacier
 * Instant Retrieval), every other prefix is derived or scratch: its noncurrent versions expire
 * after a few days and the delete markers left behind are removed (refined/ is rewritten on every
 * refine, and each replaced ticker file leaves one).
 *
 * Glacier IR bills every object as at least 128 KiB, and S3 lifecycle does not transition smaller
 * objects unless told to: most raw files are a few KiB (one index, one day), so moving them would
 * cost more than keeping them in Standard. The rule says so explicitly (`objectSizeGreaterThan`).
 *
 * @since 0.1.0
 */
import { QUARANTINE_PREFIX } from "@b3-pipeline/core/Tables"
import * as cdk from "aws-cdk-lib"
import * as s3 from "aws-cdk-lib/aws-s3"
import type { Construct } from "constructs"
import { Prefix } from "./common.js"

/** Objects below this size stay in Standard (Glacier IR's minimum billable object size). @category lifecycle */
export const GLACIER_IR_MIN_BYTES = 128 * 1024

/** @category props */
export interface StorageProps {
  readonly athenaResultsExpirationDays?: number | undefined
  readonly derivedNoncurrentDays?: number | undefined
  readonly rawNoncurrentTransitionDays?: number | undefined
  readonly destroyData?: boolean | undefined
}

/** @category constructs */
export class Storage {
  readonly bucket: s3.Bucket

  constructor(scope: Construct, props: StorageProps) {
    const derivedDays = cdk.Duration.days(props.derivedNoncurrentDays ?? 7)
    this.bucket = new s3.Bucket(scope, "DataBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      // Object-created events also go to EventBridge (the quarantine alarm matches them there).
      eventBridgeEnabled: true,
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
        {
          id: "glue-scripts-noncurrent",
          prefix: Prefix.glueScripts,
          noncurrentVersionExpiration: derivedDays,
          expiredObjectDeleteMarker: true
        },
        {
          id: "refined-noncurrent",
          prefix: "refined/",
          noncurrentVersionExpiration: derivedDays,
          expiredObjectDeleteMarker: true
        },
        { id: "quarantine-noncurrent", prefix: QUARANTINE_PREFIX, noncurrentVersionExpiration: derivedDays },
        {
          id: "raw-noncurrent-archive",
          prefix: "raw/",
          objectSizeGreaterThan: GLACIER_IR_MIN_BYTES - 1,
          noncurrentVersionTransitions: [{
            storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transitionAfter: cdk.Duration.days(props.rawNoncurrentTransitionDays ?? 30)
          }]
        }
      ]
    })
  }

  /** The ARN of every object under a prefix. */
  objects(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`)
  }

  /**
   * A table's objects, plus the folder key itself and Hadoop's `<folder>_$folder$` marker, which
   * Spark/EMRFS HEADs before listing (a 403 there fails the read or the write).
   */
  tableObjects(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix.replace(/\/$/, "")}*`)
  }

  s3Url(prefix: string): string {
    return `s3://${this.bucket.bucketName}/${prefix}`
  }
}
