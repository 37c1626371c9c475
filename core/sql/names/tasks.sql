-- The tasks not removed, for tab completion and for "did you mean" when a task is
-- unknown.
SELECT name
FROM @schema@.tasks
WHERE removed_at IS NULL
ORDER BY name
