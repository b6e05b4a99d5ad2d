-- PETR4 through time: its weight in each index that holds it, per date.
SELECT ref_date, index_code, weight_pct, theoretical_qty, days_since_previous_snapshot
FROM b3_portfolio_refined
WHERE ticker = 'PETR4'
ORDER BY ref_date, index_code
