-- What swap $1 would lose if T changed hands now: the transactions that wrote T (the
-- table named so now) but not the table beside it, and committed after writes_since
-- (the last check, swap or rollback), as swap_log_write() noted them: how many, their
-- statements, the first and last time, the roles, applications and operations; and
-- whether T carries the write log at all (a swap an older datashell started does not).
-- Run by the exchange under its lock, where every writer of T has committed or rolled
-- back: one scan of the partial index swap_writes_table_only.
WITH swap AS (
  SELECT s.*
  FROM @schema@.swaps s
  WHERE s.id = $1
),
lost AS (
  SELECT w.*
  FROM swap s
  JOIN @schema@.swap_writes w ON w.swap_id = s.id
  WHERE w.wrote_table
    AND NOT w.wrote_incoming
    AND (s.writes_since IS NULL OR NOT pg_visible_in_snapshot(w.txid, s.writes_since))
)
SELECT (SELECT count(*) FROM lost) AS transactions,
       (SELECT coalesce(sum(statements), 0) FROM lost) AS statements,
       (SELECT @schema@.iso_utc(min(first_at)) FROM lost) AS first_at,
       (SELECT @schema@.iso_utc(max(last_at)) FROM lost) AS last_at,
       (SELECT string_agg(DISTINCT role, ', ') FROM lost) AS roles,
       (SELECT string_agg(DISTINCT coalesce(nullif(application_name, ''), '(none)'), ', ')
        FROM lost) AS applications,
       (SELECT string_agg(DISTINCT op, ', ') FROM lost, unnest(ops) op) AS ops,
       EXISTS (SELECT 1
               FROM swap s
               JOIN pg_trigger g
                 ON g.tgrelid = to_regclass(format('%I.%I', s.table_schema, s.table_name))
               WHERE g.tgname = @schema@.swap_write_trigger(s.id)
                 AND g.tgenabled <> 'D') AS logged
