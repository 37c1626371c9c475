-- Every task's version from the fingerprints (tasks.fingerprint, its own): the md5 of the
-- name and fingerprint of the task and of every task it reads from, directly or not, at
-- any offset, so that a change anywhere upstream changes the version downstream. UNION
-- (not UNION ALL) makes the walk end on a cycle through an offset (a task that reads its
-- own previous key). Returns the tasks whose version changed, with the version before:
-- what a load reports as stale (pipeline/stale_plan.sql) and --keep-current accepts.
WITH RECURSIVE reach (task_id, upstream_id) AS (
    SELECT id, id
    FROM @schema@.tasks
    UNION
    SELECT r.task_id, d.upstream_id
    FROM reach r
    JOIN @schema@.task_deps d ON d.task_id = r.upstream_id
), computed AS (
    SELECT r.task_id,
           md5(string_agg(u.name || '=' || coalesce(u.fingerprint, ''), ',' ORDER BY u.name))
               AS version
    FROM reach r
    JOIN @schema@.tasks u ON u.id = r.upstream_id
    GROUP BY r.task_id
)
UPDATE @schema@.tasks t
SET version = c.version
FROM computed c
JOIN @schema@.tasks o ON o.id = c.task_id
WHERE t.id = c.task_id
  AND t.version IS DISTINCT FROM c.version
RETURNING t.id, t.name, o.version AS old_version, t.version AS new_version
