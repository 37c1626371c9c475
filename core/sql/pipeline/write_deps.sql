-- The dependencies of the files' tasks ($2: their names, a JSON array) become exactly
-- $1 ([{task, upstream, offset}]): rows no longer wanted go, new ones come, the rest
-- are left alone.
WITH wanted AS (
  SELECT t.id AS task_id, u.id AS upstream_id, x."offset" AS key_offset
  FROM jsonb_to_recordset($1::jsonb) AS x(task text, upstream text, "offset" integer)
  JOIN @schema@.tasks t ON t.name = x.task
  JOIN @schema@.tasks u ON u.name = x.upstream
), dropped AS (
  DELETE FROM @schema@.task_deps d
  USING @schema@.tasks t
  WHERE t.id = d.task_id
    AND t.name IN (SELECT jsonb_array_elements_text($2::jsonb))
    AND NOT EXISTS (SELECT 1
                    FROM wanted w
                    WHERE w.task_id = d.task_id
                      AND w.upstream_id = d.upstream_id
                      AND w.key_offset = d.key_offset)
)
INSERT INTO @schema@.task_deps (task_id, upstream_id, key_offset)
SELECT task_id, upstream_id, key_offset
FROM wanted
ON CONFLICT DO NOTHING
