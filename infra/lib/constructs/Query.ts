/**
 * What people query: the two catalog tables, the Athena workgroup with the validation queries, and
 * a managed policy to attach to the people (or roles) who query.
 *
 * Raw: partition projection on `ref_date` (date) and `index_code` (enum of every index code B3
 * serves, `Domain.ALL_INDEX_CODES`, plus the configured and any extra codes), so every raw partition
 * the CLI or the ingest writes is visible without registration. A new code B3 starts serving is
 * added with the `extraIndexCodes` prop (context `extraIndices`). Refined: `ticker` cannot be
 * projected (injected forces every query to name a ticker, enum needs the list up front), so its
 * partitions are registered by the refine jobs.
 *
 * @since 0.1.0
 */
import type { Column, TableDef } from "@b3-pipeline/core/Catalog"
import { ALL_INDEX_CODES } from "@b3-pipeline/core/Domain"
import { DATABASE, RAW_PREFIX, RAW_TABLE, REFINED_PREFIX, REFINED_TABLE } from "@b3-pipeline/core/Tables"
import { rawTable, refinedTable } from "@b3-pipeline/core/Tables"
import { readValidationQueries } from "@b3-pipeline/glue/GlueAssets"
import * as cdk from "aws-cdk-lib"
import * as athena from "aws-cdk-lib/aws-athena"
import * as glue from "aws-cdk-lib/aws-glue"
import * as iam from "aws-cdk-lib/aws-iam"
import type { Construct } from "constructs"
import type { Naming } from "./common.js"
import { Prefix } from "./common.js"
import type { Storage } from "./Storage.js"

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

/** The index codes Athena projects for the raw table: every known code, then the extra ones, deduplicated. @category catalog */
export const projectedIndexCodes = (extra: ReadonlyArray<string>): ReadonlyArray<string> => {
  const codes = [...ALL_INDEX_CODES, ...extra.map((c) => c.trim().toUpperCase()).filter((c) => c !== "")]
  for (const c of codes) {
    if (!/^[A-Z][A-Z0-9]{2,5}$/.test(c)) throw new Error(`not an index code: ${JSON.stringify(c)}`)
  }
  return [...new Set(codes)]
}

/** @category props */
export interface QueryProps {
  readonly naming: Naming
  readonly storage: Storage
  /** Codes beyond `ALL_INDEX_CODES` (and the configured ones) that raw partitions may carry. */
  readonly extraIndexCodes?: ReadonlyArray<string> | undefined
}

/** @category constructs */
export class Query {
  readonly workgroupName: string
  readonly workgroup: athena.CfnWorkGroup
  /** Attach to the people or roles who query the tables through Athena. */
  readonly queryPolicy: iam.ManagedPolicy

  constructor(scope: Construct, props: QueryProps) {
    const { naming, storage } = props
    const bucket = storage.bucket
    const { account, partition, region } = cdk.Stack.of(scope)
    this.workgroupName = naming.name("pipeline")

    new glue.CfnTable(scope, "RawTable", {
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
        "projection.index_code.values": projectedIndexCodes(props.extraIndexCodes ?? []).join(","),
        "storage.location.template": `${storage.s3Url(RAW_PREFIX)}ref_date=\${ref_date}/index_code=\${index_code}/`
      })
    })
    new glue.CfnTable(scope, "RefinedTable", {
      catalogId: account,
      databaseName: DATABASE,
      tableInput: tableInput(refinedTable, bucket.bucketName, {})
    })

    this.workgroup = new athena.CfnWorkGroup(scope, "Workgroup", {
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
          outputLocation: storage.s3Url(Prefix.athenaResults),
          encryptionConfiguration: { encryptionOption: "SSE_S3" }
        }
      }
    })
    for (const query of readValidationQueries()) {
      const named = new athena.CfnNamedQuery(scope, `Query-${query.name}`, {
        name: `b3 ${query.name}`,
        description: `glue/sql/validation/${query.name}.sql`,
        database: DATABASE,
        workGroup: this.workgroupName,
        queryString: query.sql
      })
      named.node.addDependency(this.workgroup)
    }

    // Athena runs a query with the caller's credentials: it needs the workgroup, the catalog entries,
    // read on the two tables' objects, and read/write on the workgroup's result prefix.
    this.queryPolicy = new iam.ManagedPolicy(scope, "QueryPolicy", {
      description: `Query the b3-pipeline tables through the ${this.workgroupName} Athena workgroup`,
      statements: [
        new iam.PolicyStatement({
          sid: "Workgroup",
          actions: [
            "athena:StartQueryExecution",
            "athena:StopQueryExecution",
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "athena:GetQueryResultsStream",
            "athena:ListQueryExecutions",
            "athena:GetWorkGroup",
            "athena:ListNamedQueries",
            "athena:GetNamedQuery",
            "athena:BatchGetNamedQuery"
          ],
          resources: [`arn:${partition}:athena:${region}:${account}:workgroup/${this.workgroupName}`]
        }),
        new iam.PolicyStatement({
          sid: "Catalog",
          actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"],
          resources: [
            naming.arn.catalog,
            naming.arn.database(DATABASE),
            naming.arn.table(DATABASE, RAW_TABLE),
            naming.arn.table(DATABASE, REFINED_TABLE)
          ]
        }),
        new iam.PolicyStatement({
          sid: "BucketLocation",
          actions: ["s3:GetBucketLocation"],
          resources: [bucket.bucketArn]
        }),
        new iam.PolicyStatement({
          sid: "ListTablesAndResults",
          actions: ["s3:ListBucket"],
          resources: [bucket.bucketArn],
          conditions: {
            StringLike: { "s3:prefix": [`${RAW_PREFIX}*`, `${REFINED_PREFIX}*`, `${Prefix.athenaResults}*`] }
          }
        }),
        new iam.PolicyStatement({
          sid: "ReadTables",
          actions: ["s3:GetObject"],
          resources: [storage.tableObjects(RAW_PREFIX), storage.tableObjects(REFINED_PREFIX)]
        }),
        new iam.PolicyStatement({
          sid: "Results",
          actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          resources: [storage.objects(Prefix.athenaResults)]
        })
      ]
    })
  }
}
