-- The trend of the last nights: for each area of night D (night_areas.sql)
-- and each night, the flags open that night in the districts the area holds,
-- by their rule's base severity, as the workbook's 趋势 sheet and chart and
-- the board's chart show them. An overdue flag counts at its rule's level,
-- and exempted and false-positive flags count too: the trend is what the rules
-- found, not what the lists showed.
--
-- The nights are the published nights from :first_night up to night
-- :run_date, and night D itself, which is published only after its files are
-- written. Every area has a row for every night, with zeros when nothing was
-- open: area_kind, area_code, night, red, orange, yellow.
WITH area AS (
    SELECT area_kind, area_code, district_code FROM {{ ref('night_areas') }} night_area
),
trend_night (night) AS (
    SELECT run_date FROM night WHERE run_date >= :first_night AND run_date < :run_date
    UNION
    SELECT :run_date
),
counted AS (
    SELECT a.area_kind, a.area_code, f.run_date AS night,
           SUM(CASE WHEN f.base_severity = 'red' THEN 1 ELSE 0 END) AS red,
           SUM(CASE WHEN f.base_severity = 'orange' THEN 1 ELSE 0 END) AS orange,
           SUM(CASE WHEN f.base_severity = 'yellow' THEN 1 ELSE 0 END) AS yellow
    FROM flag_night f
    JOIN trend_night n ON n.night = f.run_date
    JOIN area a ON a.district_code = f.district_code
    GROUP BY a.area_kind, a.area_code, f.run_date
)
SELECT a.area_kind, a.area_code, n.night,
       COALESCE(c.red, 0) AS red, COALESCE(c.orange, 0) AS orange,
       COALESCE(c.yellow, 0) AS yellow
FROM (SELECT DISTINCT area_kind, area_code FROM area) a
CROSS JOIN trend_night n
LEFT JOIN counted c ON c.area_kind = a.area_kind AND c.area_code = a.area_code
     AND c.night = n.night
ORDER BY a.area_kind, a.area_code, n.night
