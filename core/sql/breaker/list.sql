-- Every breaker that is not closed or has counted failures, with its held runs: open
-- and half-open ones first.
SELECT t.name AS task,
       t.graph,
       b.state,
       b.consecutive AS failures,
       cardinality(b.recent) AS recent_failures,
       (SELECT count(*)
        FROM @schema@.runs r
        WHERE r.task_id = b.task_id AND r.state = 'held') AS held,
       @schema@.iso_utc(b.opened_at) AS opened_at,
       b.opened_by,
       b.manual,
       @schema@.iso_utc(b.retry_at) AS probe_at,
       b.reason
FROM @schema@.breakers b
JOIN @schema@.tasks t ON t.id = b.task_id
WHERE t.removed_at IS NULL
  AND (b.state <> 'closed' OR b.consecutive > 0)
ORDER BY b.state = 'closed', t.name
