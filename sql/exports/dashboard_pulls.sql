-- The pulls night D was computed from, per source table: those of D loaded by
-- the night's knowledge cutoff. A re-run's own pulls come after the cutoff, so
-- the board of a night stays as first published. `warned`: loaded records
-- that break a descriptive check (a blank bank name), counted among `loaded`;
-- `unchanged`: records served again exactly as the warehouse held them.
SELECT source_table,
       SUM(pulled) AS pulled,
       SUM(loaded) AS loaded,
       SUM(quarantined) AS quarantined,
       SUM(warned) AS warned,
       SUM(superseded) AS superseded,
       SUM(unchanged) AS unchanged
FROM load_batch
WHERE run_date = :run_date AND status = 'loaded' AND loaded_at <= :cutoff
GROUP BY source_table
ORDER BY source_table
