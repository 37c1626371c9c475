-- A person opens task $1's breaker for reason $2: its queued runs are held, and no
-- probe goes through until a reset. The state is as it was before.
SELECT t.name AS task,
       coalesce(b.state, 'closed') AS state,
       @schema@.open_breaker(t.id, 'tripped by ' || current_user || ': ' || $2, true) AS held
FROM @schema@.tasks t
LEFT JOIN @schema@.breakers b ON b.task_id = t.id
WHERE t.id = $1::integer
