-- The change of the blacklist export of night :run_date since the previous
-- export, of night :previous_export (none before the first), both as recorded
-- in blacklist_export (rules.md, "What goes out"). By entry_id, an entry is
--   added     when exported now and not then: "first export", or "now on the
--             list";
--   removed   when exported then and not now, with the reason, from what night
--             D knows of the entry (night_list_entry): deleted at the source,
--             removed by the credit system (and why), expired, moved to another
--             list, or no longer applies;
--   changed   when exported both times with different fields (row_hash).
-- effective_on is the day a change takes effect: an added entry's listed_on, a
-- removed entry's removed_on or expires_on, otherwise night D, the first export
-- to show it. previous_* are the fields the previous export gave a removed or
-- changed entry (empty when that export was recorded before its fields were
-- kept).
WITH now_out AS (
    SELECT entry_id, row_hash, listed_on FROM blacklist_export WHERE run_date = :run_date
),
then_out AS (
    SELECT * FROM blacklist_export WHERE run_date = :previous_export
),
gone AS (
    SELECT t.entry_id,
           CASE WHEN k.entry_id IS NULL THEN 'deleted'
                WHEN k.removed_on <= :run_date THEN 'removed'
                WHEN k.expires_on <= :run_date THEN 'expired'
                WHEN k.list_type <> 'dishonest' THEN 'other_list'
                ELSE 'lapsed' END AS cause,
           k.list_type, k.expires_on, k.removed_on, k.removal_reason
    FROM then_out t
    LEFT JOIN night_list_entry k ON k.run_date = :run_date AND k.entry_id = t.entry_id
    WHERE NOT EXISTS (SELECT 1 FROM now_out n WHERE n.entry_id = t.entry_id)
)
SELECT 'added' AS change, n.entry_id,
       CASE WHEN EXISTS (SELECT 1 FROM then_out) THEN 'now on the list'
            ELSE 'first export' END AS reason,
       n.listed_on AS effective_on,
       NULL AS previous_subject_type, NULL AS previous_subject_name,
       NULL AS previous_credit_code, NULL AS previous_person_id_masked,
       NULL AS previous_list_type, NULL AS previous_cause, NULL AS previous_decision_no,
       NULL AS previous_listing_authority, NULL AS previous_listed_on,
       NULL AS previous_expires_on
FROM now_out n
WHERE NOT EXISTS (SELECT 1 FROM then_out t WHERE t.entry_id = n.entry_id)
UNION ALL
SELECT CASE WHEN g.entry_id IS NULL THEN 'changed' ELSE 'removed' END,
       t.entry_id,
       CASE g.cause
            WHEN 'deleted' THEN 'deleted at the source'
            WHEN 'removed' THEN 'removed on ' || CAST(g.removed_on AS TEXT) || ': '
                                || COALESCE(NULLIF(g.removal_reason, ''), 'no reason given')
            WHEN 'expired' THEN 'expired on ' || CAST(g.expires_on AS TEXT)
            WHEN 'other_list' THEN 'now a ' || g.list_type
                                   || ' entry, not on the joint-punishment list'
            WHEN 'lapsed' THEN 'no longer applies'
            ELSE 'listing details changed at the source' END,
       CASE g.cause WHEN 'removed' THEN g.removed_on
                    WHEN 'expired' THEN g.expires_on
                    ELSE :run_date END,
       t.subject_type, t.subject_name, t.credit_code, t.person_id_masked, t.list_type,
       t.cause, t.decision_no, t.listing_authority, t.listed_on, t.expires_on
FROM then_out t
LEFT JOIN now_out n ON n.entry_id = t.entry_id
LEFT JOIN gone g ON g.entry_id = t.entry_id
WHERE n.entry_id IS NULL OR n.row_hash <> t.row_hash
ORDER BY entry_id
