-- One batch ($1): its origin and its runs by state. No row for an unknown batch.
SELECT b.id AS batch,
       b.kind,
       b.command,
       b.created_by,
       @schema@.iso_utc(b.created_at) AS created_at,
       @schema@.iso_utc(b.cancelled_at) AS cancelled_at,
       b.runs,
       b.max_active,
       json_build_object('queued', count(r.id) FILTER (WHERE r.state = 'queued'),
                         'running', count(r.id) FILTER (WHERE r.state = 'running'),
                         'success', count(r.id) FILTER (WHERE r.state = 'success'),
                         'failed', count(r.id) FILTER (WHERE r.state = 'failed'),
                         'blocked', count(r.id) FILTER (WHERE r.state = 'blocked'),
                         'held', count(r.id) FILTER (WHERE r.state = 'held'),
                         'cancelled', count(r.id) FILTER (WHERE r.state = 'cancelled')) AS states
FROM @schema@.batches b
LEFT JOIN @schema@.runs r ON r.batch_id = b.id
WHERE b.id = $1
GROUP BY b.id
