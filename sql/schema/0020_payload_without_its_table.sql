-- A payload's source table is a fact of the pull that brought it
-- (load_batch.source_table, through batch_id), and nothing read it from here:
-- kept in every payload row, it cost some 17 bytes a record, first night and
-- every changed record after.
ALTER TABLE payload DROP COLUMN source_table;
