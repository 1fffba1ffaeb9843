-- The moment of the credit platform's data that the blacklist export of a
-- night reflects, its manifest's generated_at: the platform's own clock
-- (server_time of the first page, kept as the pull's watermark_to) when it
-- served the newest :source_table pull loaded by the night's knowledge cutoff
-- :cutoff. Every change the platform made before then is in the export. A
-- re-run keeps the night's cutoff, so it finds the same pull; no row when no
-- list pull was loaded by then.
SELECT watermark_to AS generated_at
FROM load_batch
WHERE source_table = :source_table AND status = 'loaded' AND loaded_at <= :cutoff
ORDER BY loaded_at DESC, batch_id DESC
LIMIT 1
