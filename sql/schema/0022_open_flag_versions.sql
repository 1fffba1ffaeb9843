-- Open flag versions (rules/flag_versions.py): a version holding through the
-- latest evaluated night ends on 9999-12-31, after every night, so that the
-- next night continues it without writing it. On PostgreSQL each night used
-- to write a new row for every open flag, only to move its last night.
-- flag_night, the view, reads the versions as before: an open version holds
-- on every evaluated night from its first.
UPDATE flag_version
SET last_night = '9999-12-31'
WHERE last_night = (SELECT MAX(run_date) FROM evaluated_night);
