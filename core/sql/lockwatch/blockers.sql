-- The sessions blocking session $1 (a backend pid), and those blocking them in turn, to
-- a depth of 4: a session queued for a lock may itself wait behind the one that holds
-- it, and both are in the way. Each with what it is doing, and whom it waits for.
-- Every field but waits_for is filled, for the report reads them all: a background
-- worker (autovacuum) has no user, a session whose role was dropped has no user name,
-- and one the watcher may not see into (another user's, without pg_read_all_stats)
-- has no state, start times or query; each says what it is instead.
WITH RECURSIVE chain(pid, depth) AS (
  SELECT unnest(pg_blocking_pids($1::integer)), 1
  UNION
  SELECT unnest(pg_blocking_pids(c.pid)), c.depth + 1
  FROM chain c
  WHERE c.depth < 4
)
SELECT a.pid,
       coalesce(a.usename::text,
                nullif(a.backend_type, 'client backend'),
                'role ' || a.usesysid::text || ' (dropped)',
                'unknown user') AS "user",
       coalesce(a.state, 'unknown state') AS state,
       coalesce(round(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start,
                                                          a.backend_start))::numeric,
                      1)::text, '?') AS age_s,
       coalesce(nullif(left(a.query, 200), ''), a.backend_type, 'unknown query') AS query,
       coalesce(a.backend_type, 'unknown') AS backend_type,
       nullif(array_to_string(pg_blocking_pids(a.pid), ', '), '') AS waits_for
FROM pg_stat_activity a
WHERE a.pid IN (SELECT pid FROM chain)
  AND a.pid <> $1::integer
ORDER BY a.pid
