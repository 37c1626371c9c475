-- The tasks a load removes ($1: their names, a JSON array) are marked, never deleted,
-- so their runs keep their history. They leave the dependency graph; their waiting
-- runs are cancelled and running ones are asked to stop (the worker running them sees
-- cancel_requested). Returns how many runs were cancelled and how many asked to stop.
WITH gone AS (
  UPDATE @schema@.tasks
  SET removed_at = now()
  WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))
    AND removed_at IS NULL
  RETURNING id
), unlinked AS (
  DELETE FROM @schema@.task_deps
  WHERE task_id IN (SELECT id FROM gone)
), stopped AS (
  UPDATE @schema@.runs r
  SET state = CASE WHEN r.state = 'running' THEN r.state ELSE 'cancelled' END,
      cancel_requested = r.cancel_requested OR r.state = 'running',
      finished_at = CASE WHEN r.state = 'running' THEN r.finished_at ELSE now() END,
      error = CASE WHEN r.state = 'running' THEN r.error
                   ELSE 'cancelled: the task was removed from its pipeline' END
  WHERE r.task_id IN (SELECT id FROM gone)
    AND r.state IN ('queued', 'held', 'running')
  RETURNING r.state
)
SELECT count(*) FILTER (WHERE state = 'cancelled'),
       count(*) FILTER (WHERE state = 'running')
FROM stopped
