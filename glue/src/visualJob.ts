/**
 * The refine job as a Glue Studio visual graph (`JobMode: "VISUAL"`), typed against
 * `@aws-sdk/client-glue`. CloudFormation's `AWS::Glue::Job` cannot carry the graph
 * (`CodeGenConfigurationNodes` is API-only), so infra applies it with a custom resource calling
 * `glue:UpdateJob`; `scripts/generate-visual.ts` writes the same definition, with placeholders, to
 * `refine-job.visual.json` for review and for `aws glue create-job --cli-input-json`.
 *
 * Graph: S3 Parquet source (raw) -> CustomCode `SelectRawDate` (the `--ref_date` rows plus their path
 * columns, and `raw_dates`) -> SelectFromCollection x2 -> ApplyMapping (pins the raw column types) ->
 * SparkSQL (the text of `sql/refine.sql`, aliases `raw` and `raw_dates`) -> CustomCode
 * `PurgeRefinedDate` (optional; the sink appends) -> SelectFromCollection -> S3GlueParquetTarget
 * partitioned by ref_date, ticker, updating the catalog table in `default`.
 *
 * @since 0.1.0
 */
import type { CodeGenConfigurationNode, CreateJobRequest, JobUpdate, Mapping } from "@aws-sdk/client-glue"
import type { Column } from "@b3-pipeline/core/Catalog"
import * as Tables from "@b3-pipeline/core/Tables"
import { readRefineSql, readVisualCode } from "./GlueAssets.js"

/** Placeholders of the committed JSON (CloudFormation `Fn::Sub` style). @category placeholders */
export const placeholders = {
  bucket: "${Bucket}",
  jobName: "${JobName}",
  roleArn: "${JobRoleArn}"
} as const

/** The node ids of the graph. @category graph */
export const nodeIds = {
  rawSource: "node_raw_source",
  selectRawDate: "node_select_raw_date",
  pickRaw: "node_pick_raw",
  pickRawDates: "node_pick_raw_dates",
  mapRaw: "node_map_raw",
  refineSql: "node_refine_sql",
  purge: "node_purge_refined_date",
  pickRefined: "node_pick_refined",
  refinedTarget: "node_refined_target"
} as const

/** The texts the graph embeds. @category models */
export interface VisualSources {
  readonly refineSql: string
  readonly selectRawDateCode: string
  readonly purgeRefinedDateCode: string
}

/** @category models */
export interface VisualGraphOptions extends VisualSources {
  readonly bucket: string
  /** Purge the date's refined files before the (appending) sink writes; default true. */
  readonly purge?: boolean
}

/** @category models */
export interface VisualJobOptions extends VisualGraphOptions {
  readonly jobName: string
  readonly roleArn: string
  /** Where Glue writes the script it generates from the graph (not the hand-written script's location). */
  readonly scriptLocation: string
  readonly tempDir: string
}

/** Reads the shipped texts (refine.sql and the CustomCode bodies) from this package. @category sources */
export const loadVisualSources = (): VisualSources => ({
  refineSql: readRefineSql(),
  selectRawDateCode: readVisualCode("select_raw_date"),
  purgeRefinedDateCode: readVisualCode("purge_refined_date")
})

/** Glue Studio's word for a column type (DynamicFrame types: bigint is `long`). @category graph */
export const glueStudioType = (type: Column["type"]): string => (type === "bigint" ? "long" : type)

const schemaOf = (columns: ReadonlyArray<Column>) => [{
  Columns: columns.map((c) => ({ Name: c.name, Type: glueStudioType(c.type) }))
}]

const rawFrameColumns: ReadonlyArray<Column> = [...Tables.rawColumns, ...Tables.rawPartitionKeys]
const refinedFrameColumns: ReadonlyArray<Column> = [...Tables.refinedColumns, ...Tables.refinedPartitionKeys]

/** Identity mapping of the raw frame's columns with explicit types (drops nothing). @category graph */
export const rawMapping: ReadonlyArray<Mapping> = rawFrameColumns.map((c) => ({
  ToKey: c.name,
  FromPath: [c.name],
  FromType: glueStudioType(c.type),
  ToType: glueStudioType(c.type),
  Dropped: false
}))

const leadingSpaces = (line: string): number => line.length - line.replace(/^ +/, "").length

const DEF_LINE = /^def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*glueContext\s*,\s*dfc\s*\)[^\n]*:[ \t]*$/

/**
 * A CustomCode node's `ClassName` and `Code` from a shipped file. The file is a whole Python
 * function (`def Name(glueContext, dfc) -> DynamicFrameCollection:` and its body), so that it
 * compiles and can be read alone; Glue Studio writes that `def` line itself from `ClassName`, so the
 * node carries the function's name and its body only, dedented (what the console's code editor holds).
 *
 * @category graph
 */
export const customCode = (code: string, node: string): { readonly ClassName: string; readonly Code: string } => {
  const lines = code.replace(/\r\n/g, "\n").split("\n")
  const at = lines.findIndex((l) => l.trim() !== "" && !l.trimStart().startsWith("#"))
  const first = lines[at]
  const m = first === undefined ? null : DEF_LINE.exec(first)
  const className = m?.[1]
  if (className === undefined) throw new Error(`CustomCode for ${node} must be one function (glueContext, dfc)`)
  const body = lines.slice(at + 1)
  for (const l of body) {
    if (l.trim() !== "" && /^\S/.test(l)) throw new Error(`CustomCode for ${node}: more than one top-level statement`)
  }
  const indents = body.filter((l) => l.trim() !== "").map((l) => leadingSpaces(l))
  const indent = indents.length === 0 ? 0 : Math.min(...indents)
  if (indent === 0) throw new Error(`CustomCode for ${node}: the function has no indented body`)
  const text = body.map((l) => l.slice(Math.min(indent, leadingSpaces(l)))).join("\n").trim()
  return { ClassName: className, Code: `${text}\n` }
}

/** The Glue Studio graph, node id -> node (each with exactly one kind key). @category graph */
export const visualGraph = (options: VisualGraphOptions): Record<string, CodeGenConfigurationNode> => {
  const purge = options.purge ?? true
  const nodes: Record<string, CodeGenConfigurationNode> = {
    [nodeIds.rawSource]: {
      S3ParquetSource: {
        Name: "Raw Parquet (b3_portfolio_raw)",
        Paths: [`s3://${options.bucket}/${Tables.RAW_PREFIX}`],
        Recurse: true,
        Exclusions: [],
        AdditionalOptions: { EnableSamplePath: false },
        OutputSchemas: schemaOf(Tables.rawColumns)
      }
    },
    [nodeIds.selectRawDate]: {
      CustomCode: {
        Name: "Select --ref_date and list raw_dates",
        Inputs: [nodeIds.rawSource],
        ...customCode(options.selectRawDateCode, nodeIds.selectRawDate)
      }
    },
    [nodeIds.pickRaw]: {
      SelectFromCollection: { Name: "raw", Inputs: [nodeIds.selectRawDate], Index: 0 }
    },
    [nodeIds.pickRawDates]: {
      SelectFromCollection: { Name: "raw_dates", Inputs: [nodeIds.selectRawDate], Index: 1 }
    },
    [nodeIds.mapRaw]: {
      ApplyMapping: { Name: "Raw columns and types", Inputs: [nodeIds.pickRaw], Mapping: [...rawMapping] }
    },
    [nodeIds.refineSql]: {
      SparkSQL: {
        Name: "Refine (sql/refine.sql)",
        Inputs: [nodeIds.mapRaw, nodeIds.pickRawDates],
        SqlQuery: options.refineSql,
        SqlAliases: [{ From: nodeIds.mapRaw, Alias: "raw" }, { From: nodeIds.pickRawDates, Alias: "raw_dates" }],
        OutputSchemas: schemaOf(refinedFrameColumns)
      }
    }
  }
  let targetInput: string = nodeIds.refineSql
  if (purge) {
    nodes[nodeIds.purge] = {
      CustomCode: {
        Name: "Purge the refined date",
        Inputs: [nodeIds.refineSql],
        ...customCode(options.purgeRefinedDateCode, nodeIds.purge)
      }
    }
    nodes[nodeIds.pickRefined] = {
      SelectFromCollection: { Name: "refined", Inputs: [nodeIds.purge], Index: 0 }
    }
    targetInput = nodeIds.pickRefined
  }
  nodes[nodeIds.refinedTarget] = {
    S3GlueParquetTarget: {
      Name: "Refined Parquet (b3_portfolio_refined)",
      Inputs: [targetInput],
      Path: `s3://${options.bucket}/${Tables.REFINED_PREFIX}`,
      PartitionKeys: Tables.refinedPartitionKeys.map((k) => [k.name]),
      Compression: "snappy",
      SchemaChangePolicy: {
        EnableUpdateCatalog: true,
        // LOG: add partitions only; the table's schema is owned by the stack (CfnTable from Tables.ts).
        UpdateBehavior: "LOG",
        Database: Tables.DATABASE,
        Table: Tables.REFINED_TABLE
      }
    }
  }
  return nodes
}

/** Default arguments of the visual job (`--ref_date` is given per run). @category job */
export const visualDefaultArguments = (options: { readonly bucket: string; readonly tempDir: string }) => ({
  "--bucket": options.bucket,
  "--TempDir": options.tempDir,
  "--enable-glue-datacatalog": "true",
  "--job-bookmark-option": "job-bookmark-disable",
  "--job-language": "python"
})

/** The whole job definition (CreateJob shape): Glue 5.0, G.1X x 2, VISUAL. @category job */
export const visualJobRequest = (options: VisualJobOptions): CreateJobRequest => ({
  Name: options.jobName,
  Description: "b3-pipeline refine, Glue Studio visual graph (SparkSQL node runs sql/refine.sql)",
  Role: options.roleArn,
  JobMode: "VISUAL",
  GlueVersion: "5.0",
  WorkerType: "G.1X",
  NumberOfWorkers: 2,
  Timeout: 30,
  MaxRetries: 0,
  // One run at a time, the others queued (WAITING): the same rule as the script job (infra's Refine.ts).
  ExecutionProperty: { MaxConcurrentRuns: 1 },
  JobRunQueuingEnabled: true,
  Command: { Name: "glueetl", ScriptLocation: options.scriptLocation, PythonVersion: "3" },
  DefaultArguments: visualDefaultArguments(options),
  CodeGenConfigurationNodes: visualGraph(options)
})

/** UpdateJob replaces the whole definition: every field of the request but the name. @category job */
export const toJobUpdate = (request: CreateJobRequest): JobUpdate => {
  const { Name: _name, Tags: _tags, ...update } = request
  return update
}

const sortKeys = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortKeys)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])])
    )
    : value

/** Deterministic JSON (sorted keys, 2-space indent, final newline). @category json */
export const stableJson = (value: unknown): string => `${JSON.stringify(sortKeys(value), null, 2)}\n`

/** The committed file's content: the job definition with placeholders for bucket, role and name. @category json */
export const renderVisualJobJson = (sources: VisualSources = loadVisualSources()): string =>
  stableJson(visualJobRequest({
    ...sources,
    bucket: placeholders.bucket,
    jobName: placeholders.jobName,
    roleArn: placeholders.roleArn,
    scriptLocation: `s3://${placeholders.bucket}/glue-scripts/generated/refine_visual.py`,
    tempDir: `s3://${placeholders.bucket}/glue-temp/`
  }))
