-- The connections a load writes ($1: [{name, conninfo, source}]), those added or
-- changed, in one statement however many there are.
INSERT INTO @schema@.connections AS c (name, conninfo, source)
SELECT name, conninfo, source
FROM jsonb_to_recordset($1::jsonb) AS x(name text, conninfo text, source text)
ON CONFLICT (name) DO UPDATE
SET conninfo = excluded.conninfo,
    source = excluded.source,
    loaded_at = now()
