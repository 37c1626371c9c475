-- Times as people and scripts read them: ISO 8601 in UTC, the same everywhere. One
-- plain SELECT, so that the planner inlines it into the statements that call it.

CREATE OR REPLACE FUNCTION iso_utc(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
