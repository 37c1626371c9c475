-- The runs recorded before versions existed, of the tasks init has just fingerprinted
-- ($1 ids), take their task's current version: they count as built by it, as the
-- upgrade promises (migrations/0012-task-versions.sql).
UPDATE @schema@.runs r
SET version = t.version
FROM @schema@.tasks t
WHERE t.id = r.task_id
  AND r.version IS NULL
  AND r.task_id = ANY ($1::integer[])
