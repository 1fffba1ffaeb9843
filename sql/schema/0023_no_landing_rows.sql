-- No landing rows: a bundle's landed rows are held against the rows still
-- valid in a temporary table of the load that reads them (warehouse/load.py),
-- and a REST pull has landed none since its payloads were written as it
-- lands. The table only churned: written and deleted every night.
DROP TABLE landing_record;
