-- The contractors with the most red flags on the lists of each area of night
-- D (night_areas.sql), as the board shows them: the flags of open_flags.sql
-- that are listed (status open) and red after escalation.
--
-- A contractor is its resolved credit code; one whose code could not be
-- resolved is the name as typed (no name typed is one contractor too). Per
-- area, the first :top_contractors by red flags, then credit code (unresolved
-- first), then name, each with:
--   place                    1, 2, ... in that order;
--   contractor_name          the name typed, the first in text order when a
--                            code was typed under several names ('' for none);
--   contractor_credit_code   null when unresolved;
--   red                      its red flags in the area;
--   projects                 the projects those flags are on.
WITH red_flag AS (
    SELECT district_code, project_id, contractor_credit_code,
           COALESCE(contractor_name, '') AS contractor_name
    FROM {{ ref('open_flags') }} open_flag
    WHERE status = 'open' AND severity = 'red'
),
contractor AS (
    SELECT a.area_kind, a.area_code, f.contractor_credit_code,
           MIN(f.contractor_name) AS contractor_name,
           COUNT(*) AS red,
           COUNT(DISTINCT f.project_id) AS projects
    FROM red_flag f
    JOIN {{ ref('night_areas') }} a ON a.district_code = f.district_code
    GROUP BY a.area_kind, a.area_code, f.contractor_credit_code,
             CASE WHEN f.contractor_credit_code IS NULL THEN f.contractor_name END
),
ranked AS (
    SELECT contractor.*,
           ROW_NUMBER() OVER (
               PARTITION BY area_kind, area_code
               ORDER BY red DESC, COALESCE(contractor_credit_code, ''), contractor_name
           ) AS place
    FROM contractor
)
SELECT area_kind, area_code, place, contractor_name, contractor_credit_code, red, projects
FROM ranked
WHERE place <= :top_contractors
ORDER BY area_kind, area_code, place
