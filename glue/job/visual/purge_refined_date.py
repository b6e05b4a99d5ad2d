def PurgeRefinedDate(glueContext, dfc) -> DynamicFrameCollection:
    # Custom transform of the visual refine job: the Glue S3 sink appends, so a re-run would double the
    # date's rows. Before the write, delete the refined files of the date being refined (retentionPeriod 0:
    # the default of 168 hours would keep fresh files) and drop the date's catalog partitions (the sink
    # registers the new ones). Not atomic for readers; the script job (refine_job.py) uses dynamic overwrite.
    import re
    import sys

    import boto3
    from awsglue.utils import getResolvedOptions

    DATABASE = "default"
    REFINED_TABLE = "b3_portfolio_refined"
    REFINED_PREFIX = "refined/b3_portfolio_refined/"
    opts = getResolvedOptions(sys.argv, ["bucket", "ref_date"])
    bucket, ref_date = opts["bucket"], opts["ref_date"]
    if re.match(r"^\d{4}-\d{2}-\d{2}$", ref_date) is None:
        raise ValueError("--ref_date must be YYYY-MM-DD, got %r" % ref_date)

    glueContext.purge_s3_path("s3://%s/%sref_date=%s/" % (bucket, REFINED_PREFIX, ref_date), {"retentionPeriod": 0})
    glue = boto3.client("glue")
    values = []
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=DATABASE, TableName=REFINED_TABLE, Expression="ref_date = '%s'" % ref_date
    )
    for page in pages:
        values.extend({"Values": p["Values"]} for p in page.get("Partitions", []))
    for i in range(0, len(values), 25):
        glue.batch_delete_partition(DatabaseName=DATABASE, TableName=REFINED_TABLE, PartitionsToDelete=values[i:i + 25])
    return dfc
