"""b3-pipeline refine job (AWS Glue 5.0, Spark 3.5, Python 3.11).

Refines one B3 date: reads every raw partition of that date
(s3://<bucket>/raw/b3_portfolio_raw/ref_date=D/index_code=*/), runs the shipped refine.sql (the same
text the local DuckDB engine runs and the visual graph embeds), replaces only that date's partitions
of s3://<bucket>/refined/b3_portfolio_refined/ (partitioned by ref_date, ticker) with Spark's dynamic
partition overwrite, and keeps the Glue Data Catalog table current (registers the new partitions,
drops the ones of tickers that left the date).

Job arguments:
  --bucket         data bucket (required)
  --ref_date       YYYY-MM-DD (required)
  --index_code     index whose raw object triggered the run (optional, logged; every index of the date is rebuilt)
  --source_key     raw object that triggered the run (optional, logged)
  --database       Glue database (default "default")
  --raw_table      raw table name (default "b3_portfolio_raw"; its data lives under raw/<raw_table>/)
  --refined_table  refined table name (default "b3_portfolio_refined"; data under refined/<refined_table>/)
  --refine_sql     file name of the refine SQL shipped with --extra-files (default "refine.sql")

Only the standard library is imported at module level, so the pure helpers below can be unit-tested
without Glue; the Glue/Spark/boto3 imports live in main().
"""

import datetime
import json
import os
import re
import sys

REFINE_SQL_FILE = "refine.sql"
DEFAULTS = {
    "database": "default",
    "raw_table": "b3_portfolio_raw",
    "refined_table": "b3_portfolio_refined",
    "refine_sql": REFINE_SQL_FILE,
}
REQUIRED = ["JOB_NAME", "bucket", "ref_date"]
OPTIONAL = ["index_code", "source_key", "database", "raw_table", "refined_table", "refine_sql"]
PARTITION_COLUMNS = ["ref_date", "ticker"]
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CREATE_BATCH = 100  # Glue BatchCreatePartition limit per call
DELETE_BATCH = 25  # Glue BatchDeletePartition limit per call


class JobArgumentError(ValueError):
    """A job argument is missing or malformed; the message names it."""


def parse_args(argv):
    """Reads --name value pairs (Glue passes them this way) into a dict with defaults, and validates them."""
    args = dict(DEFAULTS)
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            name = token[2:]
            if name in REQUIRED or name in OPTIONAL:
                args[name] = argv[i + 1]
            i += 2
        else:
            i += 1
    for name in REQUIRED:
        if not args.get(name):
            raise JobArgumentError("missing job argument --%s" % name)
    if not DATE_RE.match(args["ref_date"]):
        raise JobArgumentError("--ref_date must be YYYY-MM-DD, got %r" % args["ref_date"])
    try:
        datetime.date.fromisoformat(args["ref_date"])
    except ValueError:
        raise JobArgumentError("--ref_date is not a calendar date: %r" % args["ref_date"])
    for name in ("database", "raw_table", "refined_table"):
        if not NAME_RE.match(args[name]):
            raise JobArgumentError("--%s must match %s, got %r" % (name, NAME_RE.pattern, args[name]))
    return args


def raw_prefix(args):
    return "raw/%s/" % args["raw_table"]


def refined_prefix(args):
    return "refined/%s/" % args["refined_table"]


def raw_key_pattern(args):
    """The raw Parquet key grammar (mirrors core's Tables.parseRawParquetKey)."""
    return re.compile(
        "^" + re.escape(raw_prefix(args))
        + r"ref_date=(\d{4}-\d{2}-\d{2})/index_code=([A-Z][A-Z0-9]{2,5})/[^/]+\.parquet$"
    )


def raw_partitions(keys, args):
    """Sorted (index_code, ref_date) pairs of the raw partitions among the listed keys; other keys are ignored."""
    pattern = raw_key_pattern(args)
    found = set()
    for key in keys:
        m = pattern.match(key)
        if m is not None:
            found.add((m.group(2), m.group(1)))
    return sorted(found)


def refined_tickers_in_listing(keys, args, ref_date):
    """Tickers that have a folder under refined/<table>/ref_date=D/ in a key listing."""
    prefix = "%sref_date=%s/ticker=" % (refined_prefix(args), ref_date)
    tickers = set()
    for key in keys:
        if key.startswith(prefix):
            rest = key[len(prefix):]
            if "/" in rest:
                tickers.add(rest.split("/", 1)[0])
    return sorted(tickers)


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def find_sql_file(name, script_dir):
    """--extra-files are copied to the driver's working directory; look there, then beside the script."""
    for folder in (os.getcwd(), script_dir, "/tmp"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "refine SQL %r not found in the working directory or beside the script: ship it with --extra-files" % name
    )


def output_columns(columns):
    """The refined columns in file order, with the partition columns last (required by partitionBy/insert)."""
    missing = [c for c in PARTITION_COLUMNS if c not in columns]
    if missing:
        raise ValueError("refine SQL output lacks partition column(s) %s" % ", ".join(missing))
    return [c for c in columns if c not in PARTITION_COLUMNS] + PARTITION_COLUMNS


def list_keys(s3, bucket, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def partition_input(table, values, location):
    sd = dict(table["StorageDescriptor"])
    sd["Location"] = location
    return {"Values": values, "StorageDescriptor": sd}


def main():
    args = parse_args(sys.argv[1:])
    ref_date = args["ref_date"]
    bucket = args["bucket"]

    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.conf import SparkConf
    from pyspark.context import SparkContext
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, StringType, StructField, StructType

    # Dynamic partition overwrite must be configured before the SparkContext starts; only the partitions
    # present in the output (this date's tickers) are replaced, every other date is left untouched.
    conf = SparkConf().set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    sc = SparkContext.getOrCreate(conf=conf)
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)

    s3 = boto3.client("s3")
    glue = boto3.client("glue")

    # raw_dates: every raw partition, from the bucket listing (the raw table may use partition projection,
    # which Glue ETL does not read, so the listing is the source of truth).
    partitions = raw_partitions(list_keys(s3, bucket, raw_prefix(args)), args)
    if not any(d == ref_date for (_, d) in partitions):
        raise RuntimeError("no raw partition for ref_date=%s under s3://%s/%s" % (ref_date, bucket, raw_prefix(args)))
    raw_dates_schema = StructType([StructField("index_code", StringType(), False), StructField("ref_date", DateType(), False)])
    raw_dates = spark.createDataFrame(
        [(code, datetime.date.fromisoformat(d)) for (code, d) in partitions], schema=raw_dates_schema
    )

    # raw: the date's partitions; basePath keeps ref_date and index_code (Hive path columns, not in the files).
    base = "s3://%s/%s" % (bucket, raw_prefix(args))
    raw = (
        spark.read.option("basePath", base)
        .parquet("%sref_date=%s/" % (base, ref_date))
        .withColumn("ref_date", F.col("ref_date").cast("date"))
        .withColumn("index_code", F.col("index_code").cast("string"))
    )
    raw.createOrReplaceTempView("raw")
    raw_dates.createOrReplaceTempView("raw_dates")

    sql_path = find_sql_file(os.path.basename(args["refine_sql"]), os.path.dirname(os.path.abspath(__file__)))
    with open(sql_path, "r", encoding="utf-8") as f:
        sql_text = f.read().strip().rstrip(";")
    refined = spark.sql(sql_text)
    refined = refined.select(*output_columns(refined.columns)).filter(F.col("ref_date") == F.lit(ref_date).cast("date"))
    refined = refined.repartition("ticker").cache()
    rows = refined.count()
    tickers = sorted(r["ticker"] for r in refined.select("ticker").distinct().collect())

    # Tickers that left the date (a corrected payload): dynamic overwrite would keep their old folders.
    refined_base = "s3://%s/%s" % (bucket, refined_prefix(args))
    existing = refined_tickers_in_listing(list_keys(s3, bucket, "%sref_date=%s/" % (refined_prefix(args), ref_date)), args, ref_date)
    stale = [t for t in existing if t not in tickers]
    for ticker in stale:
        keys = list_keys(s3, bucket, "%sref_date=%s/ticker=%s/" % (refined_prefix(args), ref_date, ticker))
        for batch in chunks(keys, 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
    for batch in chunks([{"Values": [ref_date, t]} for t in stale], DELETE_BATCH):
        glue.batch_delete_partition(DatabaseName=args["database"], TableName=args["refined_table"], PartitionsToDelete=batch)

    refined.write.mode("overwrite").partitionBy(*PARTITION_COLUMNS).parquet(refined_base)

    table = glue.get_table(DatabaseName=args["database"], Name=args["refined_table"])["Table"]
    inputs = [
        partition_input(table, [ref_date, t], "%sref_date=%s/ticker=%s/" % (refined_base, ref_date, t)) for t in tickers
    ]
    for batch in chunks(inputs, CREATE_BATCH):
        response = glue.batch_create_partition(
            DatabaseName=args["database"], TableName=args["refined_table"], PartitionInputList=batch
        )
        errors = [e for e in response.get("Errors", []) if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
        if errors:
            raise RuntimeError("BatchCreatePartition failed for %s: %s" % (args["refined_table"], json.dumps(errors)[:2000]))

    print(json.dumps({
        "refined": args["refined_table"], "ref_date": ref_date, "rows": rows, "tickers": len(tickers),
        "stale_tickers_removed": stale, "index_code": args.get("index_code"), "source_key": args.get("source_key"),
    }))
    job.commit()


if __name__ == "__main__":
    main()
