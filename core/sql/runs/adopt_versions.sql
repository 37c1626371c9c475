-- The runs recorded before versions existed, of the tasks init has just fingerprinted
-- ($1 ids), take their task's current version, and so do the keys they built: they
-- count as built by it, as the upgrade promises (migrations/0012-task-versions.sql).
WITH adopted AS (
    UPDATE @schema@.runs r
    SET version = t.version
    FROM @schema@.tasks t
    WHERE t.id = r.task_id
      AND r.version IS NULL
      AND r.task_id = ANY ($1::integer[])
)
UPDATE @schema@.partitions p
SET built_version = t.version
FROM @schema@.tasks t
WHERE t.id = p.task_id
  AND p.built_version IS NULL
  AND p.task_id = ANY ($1::integer[])
