-- The sessions blocking session $1 (a backend pid), and those blocking them in turn, to
-- a depth of 4: a session queued for a lock may itself wait behind the one that holds
-- it, and both are in the way. Each with what it is doing, and whom it waits for.
WITH RECURSIVE chain(pid, depth) AS (
  SELECT unnest(pg_blocking_pids($1::integer)), 1
  UNION
  SELECT unnest(pg_blocking_pids(c.pid)), c.depth + 1
  FROM chain c
  WHERE c.depth < 4
)
SELECT a.pid,
       a.usename::text AS "user",
       a.state,
       round(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::numeric,
             1)::text AS age_s,
       left(a.query, 200) AS query,
       nullif(array_to_string(pg_blocking_pids(a.pid), ', '), '') AS waits_for
FROM pg_stat_activity a
WHERE a.pid IN (SELECT pid FROM chain)
  AND a.pid <> $1::integer
ORDER BY a.pid
