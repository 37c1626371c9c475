-- The runs of batch $1 that did not succeed, with their errors: at most $2 (NULL: all),
-- a summary for the person who asked, not a dump; total counts them all. A run that
-- waits says why, as why tells its root cause (run_root_reason,
-- definitions/55-stuck.sql): the runs shown are walked once the limit has cut them.
SELECT n.task,
       n.key,
       n.state,
       n.attempt,
       n.error,
       CASE WHEN n.state IN ('queued', 'held') THEN @schema@.run_root_reason(n.r) END AS why,
       n.total
FROM (SELECT t.name AS task, r.key, r.state, r.attempt, r.error, r,
             count(*) OVER () AS total
      FROM @schema@.runs r
      JOIN @schema@.tasks t ON t.id = r.task_id
      WHERE r.batch_id = $1
        AND r.state <> 'success'
      ORDER BY r.key, t.name
      LIMIT $2::integer) n
ORDER BY n.key, n.task
