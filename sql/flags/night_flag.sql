-- Night D's flags as its evaluation found them, held until they are written as
-- flag versions (rules/flag_versions.py), which drops the table. Temporary: it
-- takes no room in the warehouse.
CREATE TEMPORARY TABLE night_flag (
    project_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    base_severity   TEXT NOT NULL,
    raised_on       DATE NOT NULL,
    rule_version    TEXT NOT NULL,
    detail          TEXT NOT NULL,
    district_code   TEXT,
    project_name    TEXT,
    PRIMARY KEY (project_id, rule)
);
