-- A person closes task $1's breaker: its failures are forgotten and its held runs
-- queued again (reset_breaker). The state is read in the statement's snapshot: as it
-- was before the reset.
SELECT t.name AS task,
       coalesce(b.state, 'closed') AS state,
       @schema@.reset_breaker(t.id) AS requeued
FROM @schema@.tasks t
LEFT JOIN @schema@.breakers b ON b.task_id = t.id
WHERE t.id = $1::integer
