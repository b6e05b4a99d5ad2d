"""b3-pipeline refine job (AWS Glue 5.0, Spark 3.5, Python 3.11).

Refines one B3 date D, and each of D's indices' next raw date when its manifest says it is stale
(a backfilled or replaced D changes that date's days_since_previous_snapshot):

- ONE listing of raw/b3_portfolio_raw/ at the start decides everything: the keys of each refined
  date are read exactly as listed (never a second listing or a folder glob, where an index written in
  between would be in one and not the other), and `raw_dates` comes from the same listing.
- For each date: runs the shipped refine.sql (the same text the local DuckDB engine runs and the
  visual graph embeds), removes the folders of tickers that left the date, replaces only that date's
  partitions of refined/b3_portfolio_refined/ with Spark's dynamic partition overwrite, registers the
  partitions, and LAST writes the date's manifest (`_manifests/b3_portfolio_refined/ref_date=D.json`,
  core's `Trigger.RefineManifest` v1: what it read, with each object's ETag, the identity core's
  listings give (`ListedObject.etag`)). A run cut off before the manifest leaves the date stale; the scheduled
  reconcile starts it again.
- Runs of the job are serialized (MaxConcurrentRuns 1, job run queuing), so the stale-ticker cleanup
  only sees files of runs that have finished: it cannot remove another run's output.

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
OPTIONAL = ["JOB_RUN_ID", "index_code", "source_key", "database", "raw_table", "refined_table", "refine_sql"]
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


MANIFEST_PREFIX = "_manifests/b3_portfolio_refined/"


def raw_objects(keys, args):
    """(index_code, ref_date, key) of every raw Parquet object of one listing, sorted."""
    pattern = raw_key_pattern(args)
    out = []
    for key in keys:
        m = pattern.match(key)
        if m is not None:
            out.append((m.group(2), m.group(1), key))
    return sorted(out)


def plan_of(objects, ref_date):
    """What the refine of ref_date reads (mirrors core's Trigger.planOf): its keys by index code, and each
    index's previous raw date (None for its first)."""
    inputs = sorted((code, key) for (code, d, key) in objects if d == ref_date)
    previous = {}
    for (code, _) in inputs:
        earlier = [d for (c, d, _) in objects if c == code and d < ref_date]
        previous[code] = max(earlier) if earlier else None
    return {"refDate": ref_date, "inputs": [{"indexCode": c, "key": k} for (c, k) in inputs], "previous": previous}


def next_dates(objects, ref_date):
    """Each of ref_date's indices' next raw date (mirrors core's Trigger.impliedDates), sorted."""
    codes = {c for (c, d, _) in objects if d == ref_date}
    out = set()
    for code in codes:
        later = [d for (c, d, _) in objects if c == code and d > ref_date]
        if later:
            out.add(min(later))
    return sorted(out)


def manifest_key(ref_date):
    return "%sref_date=%s.json" % (MANIFEST_PREFIX, ref_date)


def manifest_of(plan, etag_by_key, rows, tickers, run_id, committed_at):
    """The manifest of a refined date, core's RefineManifest version 1 (Trigger.manifestOf)."""
    return {
        "version": 1,
        "refDate": plan["refDate"],
        "inputs": [
            {"indexCode": i["indexCode"], "key": i["key"], "etag": etag_by_key[i["key"]]} for i in plan["inputs"]
        ],
        "previous": plan["previous"],
        "rows": rows,
        "tickers": sorted(tickers),
        "runId": run_id,
        "committedAt": committed_at,
    }


def manifest_matches(manifest, plan, etag_by_key):
    """True when a stored manifest records exactly what the plan would read (core's Trigger.staleness)."""
    if not isinstance(manifest, dict) or manifest.get("version") != 1:
        return False
    stored = sorted((i.get("key"), i.get("etag")) for i in manifest.get("inputs", []))
    wanted = sorted((i["key"], etag_by_key.get(i["key"])) for i in plan["inputs"])
    if stored != wanted:
        return False
    stored_prev = manifest.get("previous", {})
    return all(stored_prev.get(code) == prev for (code, prev) in plan["previous"].items())


def etag_of(obj):
    """A raw object's version identity as core's manifests record it (ListedObject.etag): S3's ETag without
    its quotes, from a listing entry or a HeadObject answer alike."""
    return (obj.get("ETag") or "").strip('"')


def stale_tickers(existing, tickers):
    """Ticker folders of the date that the new output does not have (a member left the index)."""
    keep = set(tickers)
    return [t for t in existing if t not in keep]


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
    run_id = os.environ.get("JOB_RUN_ID") or args.get("JOB_RUN_ID") or "glue"

    # ONE listing of the raw table: every date refined by this run reads exactly these keys.
    listing = list_keys(s3, bucket, raw_prefix(args))
    objects = raw_objects(listing, args)
    partitions = raw_partitions(listing, args)
    if not any(d == ref_date for (_, d) in partitions):
        raise RuntimeError("no raw partition for ref_date=%s under s3://%s/%s" % (ref_date, bucket, raw_prefix(args)))
    raw_dates_schema = StructType([StructField("index_code", StringType(), False), StructField("ref_date", DateType(), False)])
    raw_dates = spark.createDataFrame(
        [(code, datetime.date.fromisoformat(d)) for (code, d) in partitions], schema=raw_dates_schema
    )
    raw_dates.createOrReplaceTempView("raw_dates")
    sql_path = find_sql_file(os.path.basename(args["refine_sql"]), os.path.dirname(os.path.abspath(__file__)))
    with open(sql_path, "r", encoding="utf-8") as f:
        sql_text = f.read().strip().rstrip(";")
    base = "s3://%s/%s" % (bucket, raw_prefix(args))
    refined_base = "s3://%s/%s" % (bucket, refined_prefix(args))
    table = glue.get_table(DatabaseName=args["database"], Name=args["refined_table"])["Table"]

    def etags_of(plan):
        out = {}
        for i in plan["inputs"]:
            out[i["key"]] = etag_of(s3.head_object(Bucket=bucket, Key=i["key"]))
        return out

    def stored_manifest(date):
        try:
            body = s3.get_object(Bucket=bucket, Key=manifest_key(date))["Body"].read()
            return json.loads(body.decode("utf-8"))
        except s3.exceptions.NoSuchKey:
            return None

    def refine_date(date, plan, etags):
        # raw: exactly the listed keys of the date; basePath keeps ref_date and index_code (path columns).
        raw = (
            spark.read.option("basePath", base)
            .parquet(*["s3://%s/%s" % (bucket, i["key"]) for i in plan["inputs"]])
            .withColumn("ref_date", F.col("ref_date").cast("date"))
            .withColumn("index_code", F.col("index_code").cast("string"))
        )
        raw.createOrReplaceTempView("raw")
        refined = spark.sql(sql_text)
        refined = refined.select(*output_columns(refined.columns)).filter(F.col("ref_date") == F.lit(date).cast("date"))
        refined = refined.repartition("ticker").cache()
        rows = refined.count()
        tickers = sorted(r["ticker"] for r in refined.select("ticker").distinct().collect())

        # Tickers that left the date (a corrected payload): dynamic overwrite would keep their old folders.
        # Runs are serialized, so every folder seen here was written by a run that has finished.
        existing = refined_tickers_in_listing(list_keys(s3, bucket, "%sref_date=%s/" % (refined_prefix(args), date)), args, date)
        stale = stale_tickers(existing, tickers)
        for ticker in stale:
            keys = list_keys(s3, bucket, "%sref_date=%s/ticker=%s/" % (refined_prefix(args), date, ticker))
            for batch in chunks(keys, 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        for batch in chunks([{"Values": [date, t]} for t in stale], DELETE_BATCH):
            glue.batch_delete_partition(DatabaseName=args["database"], TableName=args["refined_table"], PartitionsToDelete=batch)

        refined.write.mode("overwrite").partitionBy(*PARTITION_COLUMNS).parquet(refined_base)

        inputs = [
            partition_input(table, [date, t], "%sref_date=%s/ticker=%s/" % (refined_base, date, t)) for t in tickers
        ]
        for batch in chunks(inputs, CREATE_BATCH):
            response = glue.batch_create_partition(
                DatabaseName=args["database"], TableName=args["refined_table"], PartitionInputList=batch
            )
            errors = [e for e in response.get("Errors", []) if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"]
            if errors:
                raise RuntimeError("BatchCreatePartition failed for %s: %s" % (args["refined_table"], json.dumps(errors)[:2000]))
        refined.unpersist()

        # LAST: the manifest, the commit point of the date.
        committed_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        manifest = manifest_of(plan, etags, rows, tickers, run_id, committed_at)
        s3.put_object(
            Bucket=bucket, Key=manifest_key(date), Body=(json.dumps(manifest, indent=2) + "\n").encode("utf-8"),
            ContentType="application/json",
        )
        return {"ref_date": date, "rows": rows, "tickers": len(tickers), "stale_tickers_removed": stale}

    done = []
    plan = plan_of(objects, ref_date)
    done.append(refine_date(ref_date, plan, etags_of(plan)))
    # A backfilled or replaced date changes each of its indices' next date: refine those that are stale.
    for date in next_dates(objects, ref_date):
        next_plan = plan_of(objects, date)
        etags = etags_of(next_plan)
        if not manifest_matches(stored_manifest(date), next_plan, etags):
            done.append(refine_date(date, next_plan, etags))

    print(json.dumps({
        "refined": args["refined_table"], "run_id": run_id, "dates": done,
        "index_code": args.get("index_code"), "source_key": args.get("source_key"),
    }))
    job.commit()


if __name__ == "__main__":
    main()
