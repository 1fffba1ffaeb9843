-- Night D's figures per area: what the summary sheet (汇总) of each district's
-- workbook, every page of the supervision board and run_report.json show.
--
-- The areas are those of night_areas.sql, with their names and cities. The
-- province also counts the flags resolved in a district that has no project
-- tonight.
--
-- One row per area for every rule together (rule ''), and one per area and
-- rule with open or resolved flags (a rule without a row counts zero):
--   listed, red, orange, yellow    the flags on the lists (status open), and
--                                  of them by severity after escalation;
--   new, overdue                   of the listed flags: new since the previous
--                                  night, overdue;
--   overdue_red                    the overdue red flags (open_flags.sql);
--   resolved                       the flags resolved since the previous night;
--   flags, flags_new,              every open flag, listed or not, and of them
--   flags_overdue, exempted,       the new, the overdue, the exempted and the
--   false_positive                 false positives.
-- Each flag's lifecycle and status is that of open_flags.sql, each resolved
-- flag that of resolved_flags.sql.
WITH flag AS (
    SELECT district_code, rule, status, severity, overdue, new, overdue_red
    FROM {{ ref('open_flags') }} open_flag
),
resolved AS (
    SELECT district_code, rule FROM {{ ref('resolved_flags') }} resolved_flag
),
-- Each area with each district it holds.
area AS (
    SELECT area_kind, area_code, area_name, parent_code, district_code
    FROM {{ ref('night_areas') }} night_area
    UNION
    SELECT 'province', '', NULL, NULL, district_code FROM resolved
),
item AS (
    SELECT district_code, rule, status, severity, overdue, new, overdue_red, 0 AS resolved
    FROM flag
    UNION ALL
    SELECT district_code, rule, NULL, NULL, 0, 0, 0, 1 FROM resolved
),
-- Every item counts under its own rule and under every rule together (''); an
-- area without items still has its row for every rule.
rule_scope (every_rule) AS (SELECT 0 UNION ALL SELECT 1),
scoped AS (
    SELECT a.area_kind, a.area_code, a.area_name, a.parent_code,
           CASE WHEN s.every_rule = 1 THEN '' ELSE i.rule END AS rule,
           i.status, i.severity, i.overdue, i.new, i.overdue_red, i.resolved
    FROM area a
    CROSS JOIN rule_scope s
    LEFT JOIN item i ON i.district_code = a.district_code
    WHERE s.every_rule = 1 OR i.rule IS NOT NULL
)
SELECT area_kind, area_code, area_name, parent_code, rule,
       SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS listed,
       SUM(CASE WHEN status = 'open' AND severity = 'red' THEN 1 ELSE 0 END) AS red,
       SUM(CASE WHEN status = 'open' AND severity = 'orange' THEN 1 ELSE 0 END) AS orange,
       SUM(CASE WHEN status = 'open' AND severity = 'yellow' THEN 1 ELSE 0 END) AS yellow,
       SUM(CASE WHEN status = 'open' AND new = 1 THEN 1 ELSE 0 END) AS new,
       SUM(CASE WHEN status = 'open' AND overdue = 1 THEN 1 ELSE 0 END) AS overdue,
       SUM(CASE WHEN overdue_red = 1 THEN 1 ELSE 0 END) AS overdue_red,
       SUM(CASE WHEN resolved = 1 THEN 1 ELSE 0 END) AS resolved,
       SUM(CASE WHEN status IS NOT NULL THEN 1 ELSE 0 END) AS flags,
       SUM(CASE WHEN status IS NOT NULL AND new = 1 THEN 1 ELSE 0 END) AS flags_new,
       SUM(CASE WHEN status IS NOT NULL AND overdue = 1 THEN 1 ELSE 0 END) AS flags_overdue,
       SUM(CASE WHEN status = 'exempted' THEN 1 ELSE 0 END) AS exempted,
       SUM(CASE WHEN status = 'false_positive' THEN 1 ELSE 0 END) AS false_positive
FROM scoped
GROUP BY area_kind, area_code, area_name, parent_code, rule
ORDER BY CASE area_kind WHEN 'province' THEN 0 WHEN 'city' THEN 1 ELSE 2 END, area_code, rule
