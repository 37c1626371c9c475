-- Clear the way for the next attempt of the exchange (--cancel-blockers): cancel the
-- statement of each session that kept its lock waiting ($1: [{"pid": n}, ...], as the
-- lock watch saw them), and end a session idle in a transaction, which holds its locks
-- with no statement to cancel. A session that has gone since is skipped.
SELECT CASE WHEN a.state LIKE 'idle in transaction%' THEN pg_terminate_backend(b.pid)
            ELSE pg_cancel_backend(b.pid)
       END
FROM jsonb_to_recordset($1::jsonb) AS b(pid integer)
JOIN pg_stat_activity a ON a.pid = b.pid
