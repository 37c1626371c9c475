-- The runs of batch $1 that did not succeed, with their errors: up to 100, a summary
-- for the person who asked, not a dump. A run that waits says why, as why tells its
-- root cause (run_root_reason, definitions/55-stuck.sql): the 100 are walked once the
-- limit has cut them.
SELECT n.task,
       n.key,
       n.state,
       n.attempt,
       n.error,
       CASE WHEN n.state IN ('queued', 'held') THEN @schema@.run_root_reason(n.r) END AS why
FROM (SELECT t.name AS task, r.key, r.state, r.attempt, r.error, r
      FROM @schema@.runs r
      JOIN @schema@.tasks t ON t.id = r.task_id
      WHERE r.batch_id = $1
        AND r.state <> 'success'
      ORDER BY r.key, t.name
      LIMIT 100) n
ORDER BY n.key, n.task
