-- The time zones of pipeline files that the server does not know, from
-- $1: [{"task": i, "tz": name}] (i numbers the places that name one), as rows (task, tz). The server reads them at
-- every claim and status (AT TIME ZONE), so it is what decides: a zone is one of
-- pg_timezone_names, whose names it matches in any case as AT TIME ZONE does.
-- "Europe" (a directory) and "zone.tab" (a file of the zone database) are not.
SELECT z.task, z.tz
FROM jsonb_to_recordset($1::jsonb) AS z(task integer, tz text)
WHERE NOT EXISTS (SELECT FROM pg_timezone_names WHERE lower(name) = lower(z.tz))
ORDER BY z.task
