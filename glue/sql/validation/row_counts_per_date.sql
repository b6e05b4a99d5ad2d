-- Rows per date and index in the raw and refined tables (they must match).
SELECT r.ref_date, r.index_code, r.raw_rows, f.refined_rows
FROM (
  SELECT ref_date, index_code, COUNT(*) AS raw_rows
  FROM b3_portfolio_raw
  GROUP BY ref_date, index_code
) r
LEFT JOIN (
  SELECT ref_date, index_code, COUNT(*) AS refined_rows
  FROM b3_portfolio_refined
  GROUP BY ref_date, index_code
) f ON f.ref_date = r.ref_date AND f.index_code = r.index_code
ORDER BY r.ref_date, r.index_code
