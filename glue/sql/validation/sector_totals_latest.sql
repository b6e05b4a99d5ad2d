-- Sector totals of each index on the latest date (by-sector indices only).
SELECT index_code, sector, COUNT(*) AS members, SUM(weight_pct) AS sector_weight_pct
FROM b3_portfolio_refined
WHERE ref_date = (SELECT MAX(ref_date) FROM b3_portfolio_refined)
  AND sector IS NOT NULL
GROUP BY index_code, sector
ORDER BY index_code, sector_weight_pct DESC, sector
