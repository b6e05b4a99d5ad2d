-- DuckDB macros giving Spark SQL names to DuckDB builtins, so that refine.sql runs unchanged on
-- both engines. Only names DuckDB lacks are defined here (a macro named like a DuckDB builtin would
-- hide the builtin). Run once per connection, before refine.sql.

-- Spark 3.1+: days since 1970-01-01 as INT.
CREATE OR REPLACE MACRO unix_date(d) AS CAST(date_diff('day', DATE '1970-01-01', CAST(d AS DATE)) AS INTEGER);
