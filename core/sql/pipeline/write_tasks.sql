-- The tasks a load writes ($1: [{source, definition, output}]), from their normalized
-- definitions, in one statement; fingerprint is the md5 of output, what changes the
-- task's output (core/pipeline_version.c), and the version follows from it
-- (pipeline/write_versions.sql). A revived task keeps its id, and so its history;
-- loaded_at moves only when the definition changed or the task comes back.
INSERT INTO @schema@.tasks AS t (name, graph, key_kind, sql, command, target, retries,
                                 retry_delay_s, timeout_s, checks, complete_when,
                                 definition, source, fingerprint)
SELECT d->>'name', d->>'graph', d->>'key', d->>'sql', d->>'command', d->>'target',
       (d->>'retries')::integer, (d->>'retry_delay')::integer,
       (d->>'timeout')::integer, d->'checks', d->>'complete_when', d, x.source,
       md5(x.output)
FROM jsonb_to_recordset($1::jsonb) AS x(source text, definition jsonb, output text),
     LATERAL (SELECT x.definition AS d) AS y
ON CONFLICT (name) DO UPDATE
SET graph = excluded.graph,
    key_kind = excluded.key_kind,
    sql = excluded.sql,
    command = excluded.command,
    target = excluded.target,
    retries = excluded.retries,
    retry_delay_s = excluded.retry_delay_s,
    timeout_s = excluded.timeout_s,
    checks = excluded.checks,
    complete_when = excluded.complete_when,
    source = excluded.source,
    fingerprint = excluded.fingerprint,
    loaded_at = CASE WHEN t.definition = excluded.definition AND t.removed_at IS NULL
                     THEN t.loaded_at ELSE now() END,
    definition = excluded.definition,
    removed_at = NULL
