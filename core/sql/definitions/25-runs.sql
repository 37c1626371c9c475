-- What a run may be, whoever writes it: its key is one of its task's kind, and a run of
-- backfill --into backfill names a swap of its task's target that has a T_backfill.
-- The worker relies on both (queue/claim.sql): a key it cannot read would stop every
-- claim, and the table a run writes is never a name in the run.

-- Why a run of task p_task for key p_key (swap p_swap) may not be, or NULL. A target
-- without a schema matches the swap's table by name: the schema it means is the
-- worker's search_path's, which the claim resolves (it checks the table again).
CREATE OR REPLACE FUNCTION run_refusal(p_task @schema@.tasks, p_key text, p_swap bigint)
RETURNS text LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT CASE
    WHEN NOT key_valid(p_task.key_kind, p_key)
      THEN format('%L is not a key of task %s, whose keys are %s', p_key, p_task.name,
                  CASE p_task.key_kind
                    WHEN 'daily' THEN 'dates (2024-01-05)'
                    WHEN 'hourly' THEN 'hours (2024-01-05T07)'
                    ELSE 'the empty key ('''')' END)
    WHEN p_swap IS NOT NULL AND NOT EXISTS (
        SELECT 1
        FROM swaps s
        WHERE s.id = p_swap
          AND s.state IN ('started', 'checked', 'rolled back')
          AND coalesce(s.timings->>'mode', 'swap') = 'swap'
          AND p_task.target IN (s.table_schema || '.' || s.table_name, s.table_name))
      THEN format('swap %s is not a swap of %s, the target of task %s, with a T_backfill '
                  || 'to write', p_swap, coalesce(p_task.target, 'none'), p_task.name)
  END
$$;

-- Raise the refusal of a run, if there is one.
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

-- New runs, checked once per statement: a backfill of a year for a thousand tasks
-- reads each (task, key, swap) once, not per row.
CREATE OR REPLACE FUNCTION runs_check_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
DECLARE
  bad record;
BEGIN
  SELECT * INTO bad
  FROM (SELECT t.name, n.key, run_refusal(t, n.key, n.swap_id) AS why
        FROM (SELECT DISTINCT task_id, key, swap_id FROM new_runs) n
        JOIN tasks t ON t.id = n.task_id) r
  WHERE r.why IS NOT NULL
  LIMIT 1;
  IF FOUND THEN
    PERFORM refuse_run(bad.why, bad.name, bad.key);
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
  PERFORM refuse_run(run_refusal(t, NEW.key, NEW.swap_id), t.name, NEW.key)
  FROM tasks t
  WHERE t.id = NEW.task_id;
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER runs_check_updated BEFORE UPDATE OF task_id, key, swap_id ON runs
  FOR EACH ROW EXECUTE FUNCTION runs_check_updated();
