def SelectRawDate(glueContext, dfc) -> DynamicFrameCollection:
    # Custom transform of the visual refine job: keeps the raw rows of the date being refined (job
    # argument --ref_date) with their Hive path columns ref_date and index_code, and lists every raw
    # partition as `raw_dates`. ONE listing decides both: the date's rows are read from exactly the keys
    # it returned (never a second listing, where an index written in between would be in one and not the
    # other). The S3 Parquet source before this node fixes the file columns; the path columns are not
    # inside the files, so they come from the listed paths (partition discovery under basePath).
    import datetime
    import re
    import sys

    import boto3
    from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, StringType, StructField, StructType

    RAW_PREFIX = "raw/b3_portfolio_raw/"
    PATH_COLUMNS = ["ref_date", "index_code"]
    opts = getResolvedOptions(sys.argv, ["bucket", "ref_date"])
    bucket, ref_date = opts["bucket"], opts["ref_date"]
    if re.match(r"^\d{4}-\d{2}-\d{2}$", ref_date) is None:
        raise ValueError("--ref_date must be YYYY-MM-DD, got %r" % ref_date)

    key_re = re.compile(
        "^" + re.escape(RAW_PREFIX) + r"ref_date=(\d{4}-\d{2}-\d{2})/index_code=([A-Z][A-Z0-9]{2,5})/[^/]+\.parquet$"
    )
    found = set()
    date_keys = []
    for page in boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=RAW_PREFIX):
        for obj in page.get("Contents", []):
            m = key_re.match(obj["Key"])
            if m is not None:
                found.add((m.group(2), datetime.date.fromisoformat(m.group(1))))
                if m.group(1) == ref_date:
                    date_keys.append(obj["Key"])
    if not date_keys:
        raise RuntimeError("no raw partition for ref_date=%s under s3://%s/%s" % (ref_date, bucket, RAW_PREFIX))

    spark = glueContext.spark_session
    file_columns = [c for c in dfc.select(list(dfc.keys())[0]).toDF().columns if c not in PATH_COLUMNS]
    base = "s3://%s/%s" % (bucket, RAW_PREFIX)
    raw = (
        spark.read.option("basePath", base)
        .parquet(*["s3://%s/%s" % (bucket, key) for key in sorted(date_keys)])
        .select(*file_columns, F.col("ref_date").cast("date").alias("ref_date"), F.col("index_code").cast("string").alias("index_code"))
    )
    schema = StructType([StructField("index_code", StringType(), False), StructField("ref_date", DateType(), False)])
    raw_dates = spark.createDataFrame(sorted(found), schema=schema)
    return DynamicFrameCollection(
        {
            "raw": DynamicFrame.fromDF(raw, glueContext, "raw"),
            "raw_dates": DynamicFrame.fromDF(raw_dates, glueContext, "raw_dates"),
        },
        glueContext,
    )
