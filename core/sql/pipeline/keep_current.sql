-- pipeline load --keep-current ($2: task names): the complete keys of those tasks that
-- were built by the version before the load ($1: [{id, old_version}] from
-- pipeline/write_versions.sql) count as built by the new one: the ledger says so
-- (partitions.built_version), while each run still says what it executed (runs.version).
-- One row per name given: whether it is a task (not removed) and how many keys were
-- kept current.
WITH changed AS (
    SELECT x.id, x.old_version
    FROM jsonb_to_recordset($1::jsonb) AS x(id integer, old_version text)
), accepted AS (
    UPDATE @schema@.partitions p
    SET built_version = t.version
    FROM changed c
    JOIN @schema@.tasks t ON t.id = c.id
    WHERE p.task_id = c.id
      AND t.name IN (SELECT jsonb_array_elements_text($2::jsonb))
      AND p.state = 'success'
      AND p.built_version = c.old_version
    RETURNING t.name
)
SELECT n.name AS task,
       t.id IS NOT NULL AS known,
       (SELECT count(*) FROM accepted a WHERE a.name = n.name) AS keys
FROM jsonb_array_elements_text($2::jsonb) AS n(name)
LEFT JOIN @schema@.tasks t ON t.name = n.name AND t.removed_at IS NULL
ORDER BY n.name
