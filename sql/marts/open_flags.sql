-- Night D's open flags with their lifecycle (rules.md, "Flag lifecycle"), one
-- row per flag of night :run_date, district by district (a flag without one
-- last), each district's in list order, so that each district's list is
-- written from its own rows as they are read:
--   raised_on      the first night of the flag's current unbroken run;
--   days_open      D - raised_on;
--   overdue        1 when days_open > :escalation_days (escalation.days), else 0;
--   severity       the rule's base_severity, one level up when overdue
--                  (yellow -> orange -> red; red stays red);
--   new            1 unless the flag was open on :previous_night, the previous
--                  published night (on the first night every flag is new);
--   status         whether the lists show it, by the inspector's disposition in
--                  force on this occurrence (project_id, rule, raised_on), the
--                  latest recorded: open (none, or verified), exempted (through
--                  its until day, open again after it) or false_positive;
--   overdue_red    1 when the lists show it (status open), overdue and red:
--                  the flags the board lists first, else 0;
--   list_order     the order of the inspectors' lists: overdue red first, then
--                  by severity, the longest open first;
-- and beside them what the lists show: the district and project name the flag
-- was raised with, both parties as typed with their resolved credit codes
-- (night_party), and the disposition in force.
WITH flag AS (
    SELECT project_id, rule, base_severity, raised_on, rule_version, district_code,
           project_name
    FROM flag_night
    WHERE run_date = :run_date
),
-- D - raised_on with no date arithmetic, which SQLite and PostgreSQL spell
-- differently: the night's day number less the raised day's, each date counted
-- in days from its ISO text (what CAST(date AS TEXT) gives on both warehouses),
-- the years from March, so that a leap day is the last of its year.
flag_date (project_id, rule, sign, iso) AS (
    SELECT project_id, rule, 1, CAST(:run_date AS TEXT) FROM flag
    UNION ALL
    SELECT project_id, rule, -1, CAST(raised_on AS TEXT) FROM flag
),
open_days AS (
    SELECT project_id, rule,
           SUM(sign * (365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d))
               AS days_open
    FROM (
        SELECT project_id, rule, sign,
               CAST(SUBSTR(iso, 1, 4) AS INTEGER)
                   - CASE WHEN SUBSTR(iso, 6, 2) IN ('01', '02') THEN 1 ELSE 0 END AS y,
               (CAST(SUBSTR(iso, 6, 2) AS INTEGER) + 9) % 12 AS m,
               CAST(SUBSTR(iso, 9, 2) AS INTEGER) AS d
        FROM flag_date
    ) march_years
    GROUP BY project_id, rule
),
lifecycle AS (
    SELECT flag.*, o.days_open,
           CASE WHEN o.days_open > :escalation_days THEN 1 ELSE 0 END AS overdue,
           CASE WHEN prev.project_id IS NULL THEN 1 ELSE 0 END AS new
    FROM flag
    JOIN open_days o ON o.project_id = flag.project_id AND o.rule = flag.rule
    LEFT JOIN flag_night prev ON prev.run_date = :previous_night
         AND prev.project_id = flag.project_id AND prev.rule = flag.rule
),
escalated AS (
    SELECT lifecycle.*,
           CASE WHEN overdue = 0 THEN base_severity
                WHEN base_severity = 'yellow' THEN 'orange'
                ELSE 'red' END AS severity
    FROM lifecycle
),
in_force AS (
    SELECT d.project_id, d.rule, d.raised_on, d.kind, d.until, d.reason, d.inspector
    FROM disposition d
    WHERE d.seq = (SELECT MAX(l.seq) FROM disposition l
                   WHERE l.project_id = d.project_id AND l.rule = d.rule
                     AND l.raised_on = d.raised_on)
),
disposed AS (
    SELECT e.project_id, e.rule, e.base_severity, e.severity, e.raised_on, e.days_open,
           e.overdue, e.new, e.district_code, e.project_name,
           c.name_as_typed AS contractor_name, c.credit_code AS contractor_credit_code,
           b.name_as_typed AS builder_name, b.credit_code AS builder_credit_code,
           e.rule_version,
           CASE WHEN d.kind = 'false_positive' THEN 'false_positive'
                WHEN d.kind = 'exempted' AND d.until >= :run_date THEN 'exempted'
                ELSE 'open' END AS status,
           COALESCE(d.kind, '') AS disposition,
           d.until AS disposition_until,
           d.reason AS disposition_reason,
           d.inspector AS disposition_inspector
    FROM escalated e
    LEFT JOIN night_party c ON c.run_date = :run_date AND c.project_id = e.project_id
         AND c.role = 'contractor'
    LEFT JOIN night_party b ON b.run_date = :run_date AND b.project_id = e.project_id
         AND b.role = 'builder'
    LEFT JOIN in_force d ON d.project_id = e.project_id AND d.rule = e.rule
         AND d.raised_on = e.raised_on
)
SELECT disposed.*,
       CASE WHEN status = 'open' AND overdue = 1 AND severity = 'red' THEN 1 ELSE 0 END
           AS overdue_red,
       ROW_NUMBER() OVER (
           ORDER BY overdue DESC,
                    CASE severity WHEN 'red' THEN 0 WHEN 'orange' THEN 1 ELSE 2 END,
                    days_open DESC, project_id, rule
       ) AS list_order
FROM disposed
ORDER BY district_code IS NULL, district_code, list_order
