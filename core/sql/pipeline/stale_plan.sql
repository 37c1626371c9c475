-- What a load makes stale, asked inside its transaction once the versions are written
-- (pipeline/write_versions.sql gives $1: [{id, old_version}], the tasks whose version
-- changed): per task the load changed or revived ($2: their names), the complete keys of
-- it and of its downstream tasks, at any depth, that were built by the version before
-- and are now stale (definitions/22-versions.sql). A key already stale before the load
-- does not become so; one task's downstream may be another's too, so total counts each
-- key once.
WITH RECURSIVE changed AS (
    SELECT x.id, x.old_version
    FROM jsonb_to_recordset($1::jsonb) AS x(id integer, old_version text)
), becoming AS (
    SELECT p.task_id, count(*) AS keys
    FROM @schema@.partitions p
    JOIN changed c ON c.id = p.task_id
    JOIN @schema@.tasks t ON t.id = p.task_id
    WHERE @schema@.key_stale(p.state, p.built_version, t.version)
      AND p.built_version = c.old_version
    GROUP BY p.task_id
), roots AS (
    SELECT t.id, t.name
    FROM @schema@.tasks t
    WHERE t.name IN (SELECT jsonb_array_elements_text($2::jsonb))
), down (root, task_id) AS (
    SELECT r.id, r.id
    FROM roots r
    WHERE r.id IN (SELECT id FROM changed)
    UNION
    SELECT d.root, dep.task_id
    FROM down d
    JOIN @schema@.task_deps dep ON dep.upstream_id = d.task_id
    WHERE dep.task_id IN (SELECT id FROM changed)
)
SELECT r.name AS task,
       r.id IN (SELECT id FROM changed) AS version_changed,
       coalesce(sum(b.keys), 0)::bigint AS stale,
       coalesce(json_object_agg(t.name, b.keys ORDER BY t.name)
                    FILTER (WHERE b.keys IS NOT NULL), '{}') AS tasks,
       (SELECT coalesce(sum(keys), 0)::bigint FROM becoming) AS total
FROM roots r
LEFT JOIN down d ON d.root = r.id
LEFT JOIN @schema@.tasks t ON t.id = d.task_id
LEFT JOIN becoming b ON b.task_id = d.task_id
GROUP BY r.id, r.name
ORDER BY r.name
