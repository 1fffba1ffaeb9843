-- Night D's areas and the districts each holds: the province, each city and
-- each district that the night's figures (flag_summary.sql), trend
-- (flag_trend.sql) and contractors (top_contractors.sql) are counted over.
--
-- The districts are those with a project on night :run_date. A district
-- belongs to the city the roster names (roster_district), else to the city its
-- code names (GB/T 2260: its first four digits, then 00). The province
-- (area_code '') holds every district. One row per area and district it holds:
--   area_kind       province | city | district;
--   area_code       '' for the province;
--   area_name       the roster's name of a city or district, when it has one;
--   parent_code     a district's city, '' for a city, null for the province;
--   district_code   a district the area holds.
WITH district AS (
    SELECT p.district_code, r.district_name,
           COALESCE(r.city_code, SUBSTR(p.district_code, 1, 4) || '00') AS city_code,
           r.city_name
    FROM (SELECT DISTINCT district_code FROM night_project
          WHERE run_date = :run_date AND district_code IS NOT NULL) p
    LEFT JOIN roster_district r ON r.district_code = p.district_code
),
-- The roster gives a city one name; should its rows disagree, the first in text order.
city AS (
    SELECT city_code, MIN(city_name) AS city_name FROM district GROUP BY city_code
)
SELECT 'district' AS area_kind, district_code AS area_code, district_name AS area_name,
       city_code AS parent_code, district_code
FROM district
UNION ALL
SELECT 'city', c.city_code, c.city_name, '', d.district_code
FROM district d
JOIN city c ON c.city_code = d.city_code
UNION ALL
SELECT 'province', '', NULL, NULL, district_code
FROM district
ORDER BY area_kind, area_code, district_code
