-- Refine of b3_portfolio_raw into b3_portfolio_refined: ONE text for Spark 3.5 (Glue) and DuckDB 1.5.
--
-- Inputs (registered by the runner: Glue SqlAliases, or DuckDB views):
--   raw        the raw rows of the date(s) being refined: the columns of Tables.rawColumns plus the
--              partition columns ref_date (DATE) and index_code (STRING);
--   raw_dates  (index_code, ref_date) of every raw partition, all dates (for the previous snapshot).
-- Output: Tables.refinedColumns in file order, then the partition columns ref_date and ticker.
--
-- Written in the subset both engines share (shared/aws-glue.md): split_part, not split()[];
-- unix_date differences, not datediff (DuckDB gets a unix_date macro from duckdb-compat.sql);
-- every aggregate CAST to the table's type (DuckDB sums INT to HUGEINT, DECIMAL to DECIMAL(38,s)).
WITH members AS (
  SELECT
    index_code,
    ref_date,
    cod AS ticker,
    asset AS company,
    CAST(part AS DECIMAL(7, 3)) AS weight_pct,
    CAST(theorical_qty AS BIGINT) AS theoretical_qty,
    split_part(trim(type), ' ', 1) AS share_class,
    segment AS sector
  FROM raw
),
index_totals AS (
  SELECT index_code, ref_date, CAST(COUNT(*) AS BIGINT) AS index_constituents
  FROM members
  GROUP BY index_code, ref_date
),
sector_totals AS (
  SELECT index_code, ref_date, sector, CAST(SUM(weight_pct) AS DECIMAL(7, 3)) AS sector_weight_pct
  FROM members
  WHERE sector IS NOT NULL
  GROUP BY index_code, ref_date, sector
),
snapshots AS (
  SELECT
    index_code,
    ref_date,
    LAG(ref_date) OVER (PARTITION BY index_code ORDER BY ref_date) AS previous_ref_date
  FROM (SELECT DISTINCT index_code, CAST(ref_date AS DATE) AS ref_date FROM raw_dates) d
),
periods AS (
  SELECT
    index_code,
    ref_date,
    make_date(
      year(ref_date),
      CASE WHEN month(ref_date) >= 9 THEN 9 WHEN month(ref_date) >= 5 THEN 5 ELSE 1 END,
      1
    ) AS period_start
  FROM index_totals
)
SELECT
  m.index_code AS index_code,
  m.company AS company,
  m.weight_pct AS weight_pct,
  m.theoretical_qty AS theoretical_qty,
  m.share_class AS share_class,
  m.sector AS sector,
  t.index_constituents AS index_constituents,
  s.sector_weight_pct AS sector_weight_pct,
  p.period_start AS period_start,
  CAST(unix_date(m.ref_date) - unix_date(p.period_start) AS INT) AS days_since_period_start,
  CAST(unix_date(m.ref_date) - unix_date(n.previous_ref_date) AS INT) AS days_since_previous_snapshot,
  m.ref_date AS ref_date,
  m.ticker AS ticker
FROM members m
JOIN index_totals t ON t.index_code = m.index_code AND t.ref_date = m.ref_date
JOIN periods p ON p.index_code = m.index_code AND p.ref_date = m.ref_date
LEFT JOIN sector_totals s ON s.index_code = m.index_code AND s.ref_date = m.ref_date AND s.sector = m.sector
LEFT JOIN snapshots n ON n.index_code = m.index_code AND n.ref_date = m.ref_date
ORDER BY m.ref_date, m.ticker, m.index_code
