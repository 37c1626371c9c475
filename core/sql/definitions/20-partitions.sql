-- The triggers that keep the records of every (task, key) per table: partitions,
-- production's, and swap_partitions, those of a swap's incoming and retired tables
-- (migrations/0002-pipelines-and-runs.sql and 0011-completeness-per-table.sql say why
-- they exist). A run of backfill --into backfill (swap_id) writes its swap's incoming
-- table alone: it is recorded there, never for production. Any other run is
-- production's; the claim records it for the incoming table as well when it has it
-- write both (queue/claim.sql), since only the claim knows that.

CREATE OR REPLACE FUNCTION partitions_after_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
BEGIN
  INSERT INTO partitions AS p (task_id, key, run_id, state, built_by, built_version)
  SELECT DISTINCT ON (task_id, key) task_id, key, id, state,
         CASE WHEN state = 'success' THEN id END,
         CASE WHEN state = 'success' THEN version END
  FROM new_runs
  WHERE swap_id IS NULL
  ORDER BY task_id, key, id DESC
  ON CONFLICT (task_id, key) DO UPDATE
  SET run_id = excluded.run_id,
      state = excluded.state,
      built_by = coalesce(excluded.built_by, p.built_by),
      built_version = CASE WHEN excluded.built_by IS NULL THEN p.built_version
                           ELSE excluded.built_version END
  WHERE p.run_id < excluded.run_id;
  INSERT INTO swap_partitions AS p (swap_id, side, task_id, key, run_id, state, built_by,
                                    built_version)
  SELECT DISTINCT ON (swap_id, task_id, key) swap_id, 'incoming', task_id, key, id, state,
         CASE WHEN state = 'success' THEN id END,
         CASE WHEN state = 'success' THEN version END
  FROM new_runs
  WHERE swap_id IS NOT NULL
  ORDER BY swap_id, task_id, key, id DESC
  ON CONFLICT (swap_id, side, task_id, key) DO UPDATE
  SET run_id = excluded.run_id,
      state = excluded.state,
      built_by = coalesce(excluded.built_by, p.built_by),
      built_version = CASE WHEN excluded.built_by IS NULL THEN p.built_version
                           ELSE excluded.built_version END
  WHERE p.run_id < excluded.run_id;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER partitions_after_insert AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION partitions_after_insert();

-- A row trigger, fired only when a run leaves or enters the waiting-or-running
-- states: claims (queued to running) and lost leases (back to queued) are the
-- worker's hot path and change nothing a plan counts, so the records keep an
-- active run as it was enqueued; the calendar reads its live state from runs.
-- Every record whose latest run this is follows it, whichever table it is for; a run
-- that succeeds gives its key the version it executed (migrations/0012-task-versions.sql).
CREATE OR REPLACE FUNCTION partitions_after_update() RETURNS trigger LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
BEGIN
  UPDATE partitions
  SET state = NEW.state,
      built_by = CASE WHEN NEW.state = 'success' THEN NEW.id ELSE built_by END,
      built_version = CASE WHEN NEW.state = 'success' THEN NEW.version ELSE built_version END
  WHERE task_id = NEW.task_id AND key = NEW.key AND run_id = NEW.id;
  UPDATE swap_partitions
  SET state = NEW.state,
      built_by = CASE WHEN NEW.state = 'success' THEN NEW.id ELSE built_by END,
      built_version = CASE WHEN NEW.state = 'success' THEN NEW.version ELSE built_version END
  WHERE task_id = NEW.task_id AND key = NEW.key AND run_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER partitions_after_update AFTER UPDATE OF state ON runs
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT
    (OLD.state IN ('queued', 'running', 'held') AND
     NEW.state IN ('queued', 'running', 'held')))
  EXECUTE FUNCTION partitions_after_update();

-- What swap-table does to the records when it exchanges or drops a table, in the
-- transaction that does it ($1 the swap, tasks the tasks whose target is its table, as
-- the session resolved them before the lock, whose search_path is empty):
--   swap      production's records of the tasks are kept aside as T_old's ('old'), and
--             the incoming table's become production's;
--   rollback  the reverse: production's become the incoming table's again, and T_old's
--             production's again, exactly as they were;
--   end       finish or abandon: the table dropped takes its records with it, so no
--             record of the swap is left (production's are kept: in mode v2, a passed
--             check found every key of T in T_v2).
-- Runs as the owner: nobody else deletes a record.
CREATE OR REPLACE FUNCTION swap_move_records(swap bigint, tasks integer[], step text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = @schema@, pg_temp AS $$
DECLARE
  away text := CASE step WHEN 'swap' THEN 'old' ELSE 'incoming' END;
  back text := CASE step WHEN 'swap' THEN 'incoming' ELSE 'old' END;
  moving swap_partitions[];
  ready text := CASE step WHEN 'swap' THEN 'swapped' WHEN 'rollback' THEN 'rolled back'
                          WHEN 'end' THEN 'finished' END;
  journaled text;
BEGIN
  -- Called after the journal says the step was taken, in the same transaction: the
  -- records move once per step, never out of turn.
  SELECT state INTO journaled FROM swaps WHERE id = swap;
  IF journaled IS DISTINCT FROM ready THEN
    RAISE EXCEPTION 'swap_move_records: swap % is %, not ready for step %', swap,
      coalesce(journaled, 'unknown'), step;
  END IF;
  IF step = 'end' THEN
    DELETE FROM swap_partitions WHERE swap_id = swap;
    RETURN;
  END IF;
  -- The records coming back are read before anything moves, then deleted.
  SELECT coalesce(array_agg(r), '{}')
  INTO moving
  FROM swap_partitions r
  WHERE r.swap_id = swap AND r.side = back;
  DELETE FROM swap_partitions WHERE swap_id = swap;
  WITH gone AS (
    DELETE FROM partitions
    WHERE task_id = ANY (tasks)
    RETURNING *
  )
  INSERT INTO swap_partitions (swap_id, side, task_id, key, run_id, state, built_by,
                               built_version)
  SELECT swap, away, task_id, key, run_id, state, built_by, built_version
  FROM gone;
  INSERT INTO partitions (task_id, key, run_id, state, built_by, built_version)
  SELECT m.task_id, m.key, m.run_id, m.state, m.built_by, m.built_version
  FROM unnest(moving) m;
END
$$;
REVOKE ALL ON FUNCTION swap_move_records(bigint, integer[], text) FROM PUBLIC;

-- The keys a downstream run may go on from, the one home of "upstream done": production's
-- record of the key was built by a successful run, and no run of it is waiting or in
-- progress (a re-run makes its downstream wait). A key built into a swap's incoming table
-- alone (backfill --into backfill) is not production's, and is not here. The claim
-- (queue/claim.sql), why and the stuck runs (definitions/55-stuck.sql) all read it; a
-- view, so that each reads it as its own plan's index lookup.
CREATE OR REPLACE VIEW done_keys AS
  SELECT task_id, key
  FROM partitions
  WHERE built_by IS NOT NULL
    AND state NOT IN ('queued', 'running', 'held');
