-- Waking idle workers. A worker LISTENs on channel datashell_runs on its control
-- connection (core/worker.c) and claims at once when told that runs may have become
-- ready; polling is only its fallback. The payload is the state schema's name, so that
-- the workers of two schemas in one database claim only for their own (a worker of
-- another schema wakes, reads the name and waits on). Runs may become ready when they
-- are queued (backfill, force-run, the schedule's pass, a retry, a lease that ran out,
-- held runs released when a breaker closes), when an upstream run succeeds, and when a
-- graph is resumed or given more room. PostgreSQL folds the notifications of equal
-- payload within a transaction into one: a backfill of a year wakes the workers once.
-- A retry whose not_before is still ahead is found by the worker's polling.

-- Notify the workers of this schema: the trigger's table's schema is the state's.
CREATE OR REPLACE FUNCTION wake_workers() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM pg_notify('datashell_runs', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER graphs_wake_workers AFTER UPDATE OF paused, max_active ON graphs
  FOR EACH STATEMENT EXECUTE FUNCTION wake_workers();

-- Once per statement, and only when it inserted a run that may be claimed or that
-- completes a key downstream runs wait for (a mark).
CREATE OR REPLACE FUNCTION runs_wake_inserted() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_runs WHERE state IN ('queued', 'success')) THEN
    PERFORM pg_notify('datashell_runs', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER runs_wake_inserted AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION runs_wake_inserted();

-- Per row, but the WHEN clause (evaluated without calling the function) lets through
-- only runs that became queued or succeeded, and queued runs whose priority was raised
-- (the schedule's pass raises a waiting run's): a worker's claim may start its scan
-- where its last one began (queue/claim.sql), and such a run now sorts before that.
-- A claim (queued to running) and a renewal never call it. A success wakes the workers
-- only when some task depends on its task: the independent runs of a busy queue notify
-- nobody.
CREATE OR REPLACE FUNCTION runs_wake_updated() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF NEW.state = 'queued' OR EXISTS (SELECT 1 FROM task_deps d WHERE d.upstream_id = NEW.task_id)
  THEN
    PERFORM pg_notify('datashell_runs', TG_TABLE_SCHEMA);
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER runs_wake_updated AFTER UPDATE OF state, priority ON runs
  FOR EACH ROW
  WHEN (NEW.state IN ('queued', 'success')
        AND (OLD.state IS DISTINCT FROM NEW.state OR NEW.priority > OLD.priority))
  EXECUTE FUNCTION runs_wake_updated();
