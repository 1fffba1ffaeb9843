-- Each pull's expectation results as GX's SUMMARY format holds them (JSON: type,
-- kwargs, success, result per expectation), the input of its Data Docs page.
-- The page is rendered with the night's outputs in a process of its own, so no
-- validate task pays GX's import; batches loaded before this revision keep the
-- page they rendered then in validation_docs.
ALTER TABLE load_batch ADD COLUMN validation_results TEXT;
