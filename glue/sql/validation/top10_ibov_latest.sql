-- The 10 largest weights of IBOV on its latest date.
SELECT ref_date, ticker, company, weight_pct, sector
FROM b3_portfolio_refined
WHERE index_code = 'IBOV'
  AND ref_date = (SELECT MAX(ref_date) FROM b3_portfolio_refined WHERE index_code = 'IBOV')
ORDER BY weight_pct DESC, ticker
LIMIT 10
