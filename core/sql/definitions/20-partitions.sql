-- The triggers that keep partitions, the latest run of every (task, key)
-- (migrations/0002-pipelines-and-runs.sql says why it exists).

CREATE OR REPLACE FUNCTION partitions_after_insert() RETURNS trigger LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
BEGIN
  INSERT INTO partitions AS p (task_id, key, run_id, state)
  SELECT DISTINCT ON (task_id, key) task_id, key, id, state FROM new_runs
  ORDER BY task_id, key, id DESC
  ON CONFLICT (task_id, key) DO UPDATE
  SET run_id = excluded.run_id, state = excluded.state
  WHERE p.run_id < excluded.run_id;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER partitions_after_insert AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs
  FOR EACH STATEMENT EXECUTE FUNCTION partitions_after_insert();

-- A row trigger, fired only when a run leaves or enters the waiting-or-running
-- states: claims (queued to running) and lost leases (back to queued) are the
-- worker's hot path and change nothing a plan counts, so partitions keeps an
-- active run as it was enqueued; the calendar reads its live state from runs. A run
-- that ends gives its key the version it executed (migrations/0012-task-versions.sql).
CREATE OR REPLACE FUNCTION partitions_after_update() RETURNS trigger LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
BEGIN
  UPDATE partitions SET state = NEW.state, built_version = NEW.version
  WHERE task_id = NEW.task_id AND key = NEW.key AND run_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER partitions_after_update AFTER UPDATE OF state ON runs
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NOT
    (OLD.state IN ('queued', 'running', 'held') AND
     NEW.state IN ('queued', 'running', 'held')))
  EXECUTE FUNCTION partitions_after_update();
