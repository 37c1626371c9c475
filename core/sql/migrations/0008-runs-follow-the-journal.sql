-- A run of backfill --into backfill names the swap it writes for, no longer a table:
-- the worker takes the table from the journal (queue/claim.sql), and no role can point
-- a run elsewhere by editing a name (definitions/90-grants.sql).
ALTER TABLE runs ADD COLUMN swap_id bigint REFERENCES swaps (id);
CREATE INDEX runs_swap ON runs (swap_id) WHERE swap_id IS NOT NULL;

-- The waiting runs that wrote T_backfill (target was the task's target and '_backfill',
-- as backfill --into made it) take the swap of that table that still has a T_backfill.
-- The names are compared as written: the search_path here is the state schema's alone.
UPDATE runs r
SET swap_id = s.id
FROM tasks t, swaps s
WHERE r.state IN ('queued', 'held')
  AND r.target IS NOT NULL
  AND t.id = r.task_id
  AND r.target = t.target || '_backfill'
  AND s.state IN ('started', 'checked', 'rolled back')
  AND coalesce(s.timings->>'mode', 'swap') <> 'v2'
  AND (t.target = s.table_schema || '.' || s.table_name
       OR (t.target = s.table_name
           AND NOT EXISTS (SELECT 1
                           FROM swaps o
                           WHERE o.id <> s.id
                             AND o.table_name = s.table_name
                             AND o.state IN ('started', 'checked', 'rolled back'))));

-- Any other waiting run with a table of its own would write where no swap says: it
-- does not run.
UPDATE runs
SET state = 'cancelled',
    finished_at = now(),
    error = format('cancelled by the upgrade to schema version 8: it was to write %s, '
                   || 'which is not the T_backfill of a swap under way; '
                   || 'backfill --into backfill enqueues it again', target)
WHERE state IN ('queued', 'held')
  AND target IS NOT NULL
  AND swap_id IS NULL;

-- A waiting run whose key is not one of its task's kind would stop every claim: it
-- does not run either (definitions/10-keys.sql refuses such keys from now on).
UPDATE runs r
SET state = 'cancelled',
    finished_at = now(),
    error = format('cancelled by the upgrade to schema version 8: %L is not a %s key',
                   r.key, t.key_kind)
FROM tasks t
WHERE t.id = r.task_id
  AND r.state IN ('queued', 'held')
  AND NOT CASE t.key_kind
            WHEN 'none' THEN r.key = ''
            WHEN 'daily' THEN r.key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
            ELSE r.key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$'
          END;

ALTER TABLE runs DROP COLUMN target;
