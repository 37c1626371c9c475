-- One batch ($1): its origin, its runs by state, and how many ran on each named
-- connection, at their last claim, as "warehouse 20, other 3" (those on the state
-- database are not counted there; NULL when none ran elsewhere): a line for a person,
-- not a second table beside the runs that did not succeed. No row for an unknown batch.
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
                         'cancelled', count(r.id) FILTER (WHERE r.state = 'cancelled')) AS states,
       (SELECT string_agg(c.connection || ' ' || c.runs, ', ' ORDER BY c.connection)
        FROM (SELECT x.connection, count(*) AS runs
              FROM @schema@.runs x
              WHERE x.batch_id = b.id
                AND x.connection IS NOT NULL
              GROUP BY x.connection) c) AS connections
FROM @schema@.batches b
LEFT JOIN @schema@.runs r ON r.batch_id = b.id
WHERE b.id = $1
GROUP BY b.id
