-- What a run may be, whoever writes it: its key is one of its task's kind and is due
-- (definitions/15-due.sql), and a run of backfill --into backfill names a swap of its
-- task's target that has a T_backfill. The worker relies on these (queue/claim.sql): a
-- key it cannot read would stop every claim, a run of a key that is not due would build
-- an empty day that then counts as complete, and the table a run writes is never a name
-- in the run.

-- Why p_key may not be a key of task p_task, of kind p_kind; NULL if it may.
CREATE OR REPLACE FUNCTION key_refusal(p_task text, p_kind text, p_key text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
  SELECT format('%L is not a key of task %s, whose keys are %s', p_key, p_task,
                CASE p_kind
                  WHEN 'daily' THEN 'dates (2024-01-05)'
                  WHEN 'hourly' THEN 'hours (2024-01-05T07)'
                  ELSE 'the empty key ('''')' END)
  WHERE NOT key_valid(p_kind, p_key)
$$;

-- Why key p_key of kind p_kind (a valid one) may not be run yet under schedule p_s (the
-- task's schedule in force, task_schedule's form); NULL if it is due. The clock is the
-- server's, whoever inserts.
CREATE OR REPLACE FUNCTION due_refusal(p_kind text, p_key text, p_s jsonb) RETURNS text
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT format('the key is not due until %s (a key is due once its period has ended, in its '
                || 'task''s time zone, plus its delay)', iso_utc(d.due_at))
  FROM (SELECT key_due_at(p_kind, p_key, p_s) AS due_at) d
  WHERE d.due_at > now()
$$;

-- Why a run of task p_task, whose target is p_target, may not write for swap p_swap;
-- NULL if it may. A target without a schema matches the swap's table by name: the
-- schema it means is the worker's search_path's, which the claim resolves (it checks
-- the table again).
CREATE OR REPLACE FUNCTION swap_refusal(p_task text, p_target text, p_swap bigint) RETURNS text
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT format('swap %s is not a swap of %s, the target of task %s, with a T_backfill '
                || 'to write', p_swap, coalesce(p_target, 'none'), p_task)
  WHERE NOT EXISTS (SELECT 1
                    FROM swaps s
                    WHERE s.id = p_swap
                      AND s.state IN ('started', 'checked', 'rolled back')
                      AND coalesce(s.timings->>'mode', 'swap') = 'swap'
                      AND p_target IN (s.table_schema || '.' || s.table_name, s.table_name))
$$;

-- Raise the refusal why of a run of task p_task for key p_key, if there is one.
CREATE OR REPLACE FUNCTION refuse_run(why text, p_task text, p_key text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF why IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('run of task %s for key %L refused: %s', p_task, p_key, why),
      HINT = 'runs are enqueued by backfill and force-run, which make their keys '
             || 'from a range; a run''s task, key and swap are never changed';
  END IF;
END
$$;

-- New runs, checked once per statement and set-based: a backfill of a year for a
-- thousand tasks checks each key once per kind of key, each (task, swap) once, and
-- whether each task's latest key is due (a task's keys become due in key order).
CREATE OR REPLACE FUNCTION runs_check_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  SELECT * INTO bad
  FROM (SELECT k.task, k.key, key_refusal(k.task, k.key_kind, k.key) AS why
        FROM (SELECT t.key_kind, n.key, min(t.name) AS task
              FROM new_runs n
              JOIN tasks t ON t.id = n.task_id
              GROUP BY t.key_kind, n.key) k
        UNION ALL
        SELECT t.name, n.key, swap_refusal(t.name, t.target, n.swap_id)
        FROM (SELECT task_id, swap_id, min(key) AS key
              FROM new_runs
              WHERE swap_id IS NOT NULL
              GROUP BY task_id, swap_id) n
        JOIN tasks t ON t.id = n.task_id) r
  WHERE r.why IS NOT NULL
  LIMIT 1;
  IF NOT FOUND THEN
    -- Only once every key is known to be valid: key_due_at reads them.
    SELECT * INTO bad
    FROM (SELECT t.name AS task, n.key,
                 due_refusal(t.key_kind, n.key,
                             task_schedule(t.definition -> 'schedule', g.schedule)) AS why
          FROM (SELECT task_id, max(key) AS key
                FROM new_runs
                GROUP BY task_id) n
          JOIN tasks t ON t.id = n.task_id
          LEFT JOIN graphs g ON g.name = t.graph) r
    WHERE r.why IS NOT NULL
    LIMIT 1;
  END IF;
  IF FOUND THEN
    PERFORM refuse_run(bad.why, bad.task, bad.key);
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER runs_check_inserted AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION runs_check_inserted();

-- A run changed by hand (nobody but the schema's owner may: definitions/90-grants.sql).
CREATE OR REPLACE FUNCTION runs_check_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM refuse_run(coalesce(key_refusal(t.name, t.key_kind, NEW.key),
                              CASE WHEN NEW.key IS DISTINCT FROM OLD.key
                                        OR NEW.task_id IS DISTINCT FROM OLD.task_id
                                   THEN due_refusal(t.key_kind, NEW.key,
                                                    task_schedule(t.definition -> 'schedule',
                                                                  g.schedule)) END,
                              CASE WHEN NEW.swap_id IS NOT NULL
                                   THEN swap_refusal(t.name, t.target, NEW.swap_id) END),
                     t.name, NEW.key)
  FROM tasks t
  LEFT JOIN graphs g ON g.name = t.graph
  WHERE t.id = NEW.task_id;
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER runs_check_updated BEFORE UPDATE OF task_id, key, swap_id ON runs
  FOR EACH ROW EXECUTE FUNCTION runs_check_updated();

-- The batches whose max_active (backfill --max-active) a claim must hold: capped, with runs
-- waiting. A claim locks them (queue/lock_batches.sql) and counts their free slots
-- (queue/claim.sql); a view, so that each reads it in its own plan.
CREATE OR REPLACE VIEW capped_batches AS
SELECT b.id, b.max_active
FROM batches b
WHERE b.max_active IS NOT NULL
  AND EXISTS (SELECT 1
              FROM runs r
              WHERE r.batch_id = b.id
                AND r.state = 'queued');
