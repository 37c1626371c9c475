-- The runs of batch $1 that did not succeed, with their errors: up to 100, a summary
-- for the person who asked, not a dump.
SELECT t.name AS task,
       r.key,
       r.state,
       r.attempt,
       r.error
FROM @schema@.runs r
JOIN @schema@.tasks t ON t.id = r.task_id
WHERE r.batch_id = $1
  AND r.state <> 'success'
ORDER BY r.key, t.name
LIMIT 100
