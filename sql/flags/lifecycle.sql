-- A night's flags as the inspectors know them (rules.md, "Flag lifecycle"),
-- made from night_flag as the rules found it, before it is kept as flag
-- versions (rules/flag_versions.py). Run by rules/evaluate.py only: a test
-- that gives flags their own raised_on writes night_flag without it.

-- A flag the previous published night held (warehouse/night.py says which
-- night that is, as for the marts) keeps the date it was first raised while
-- the condition holds; any other is raised tonight (its raised_on as the rules
-- wrote it). A night the condition did not hold ends the run, so a flag that
-- comes back is a new occurrence.
UPDATE night_flag
SET raised_on = p.raised_on
FROM flag_night p
WHERE p.run_date = :previous_night
  AND p.project_id = night_flag.project_id AND p.rule = night_flag.rule;

-- A flag keeps where its project was and what it was called that night, so a
-- night read back later tells the district and the name it went out with.
UPDATE night_flag
SET district_code = p.district_code, project_name = p.name
FROM night_project p
WHERE p.run_date = :run_date AND p.project_id = night_flag.project_id;
