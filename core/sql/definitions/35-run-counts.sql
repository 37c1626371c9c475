-- The counts of ended runs that metrics reads (migrations/0016-run-counts.sql says what
-- they hold), kept by triggers on runs. The row triggers fire only when a run enters or
-- leaves an ended state (success, failed, blocked, cancelled), or an ended run's times
-- change: enqueueing, claiming, renewing a lease and a retry's return to the queue cost
-- nothing but the trigger's WHEN, and a backfill's INSERT of queued runs does not fire
-- them. A run that ends adds one upsert to its transaction, to the row of its task, its
-- state and the session's slot, which only that session's transactions write while it
-- lives. prune deletes thousands of runs per statement: its trigger is per statement,
-- one upsert per task and state. Run as the owner: nobody else writes the counts.

-- Add to the counts the runs of tasks p_task[i] in states p_state[i] that took
-- p_seconds[i] (NULL: not known), each p_sign[i] times (1 or -1); states that are not
-- ended are left out. The histogram's bounds are here and nowhere else. PL/pgSQL, not
-- SQL: a SQL function that cannot be inlined plans its statement again on every call,
-- which cost a worker more than the rest of the trigger; PL/pgSQL keeps the plan for
-- the session.
CREATE OR REPLACE FUNCTION run_counts_add(p_task integer[], p_state text[], p_seconds float8[],
                                          p_sign integer[]) RETURNS void
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  INSERT INTO run_counts AS c (task_id, state, slot, runs, timed, seconds, b0, b1, b2, b3,
                               b4, b5, b6, b7, b8, b9, b10, b11, b12)
  SELECT v.task_id, v.state, pg_backend_pid() % 16, sum(v.sign),
         coalesce(sum(v.sign) FILTER (WHERE v.d IS NOT NULL), 0),
         coalesce(sum(v.sign * v.d::numeric), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 0.1), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 0.5), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 1), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 5), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 10), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 30), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 60), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 300), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 600), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 1800), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 3600), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 7200), 0),
         coalesce(sum(v.sign) FILTER (WHERE v.d <= 21600), 0)
  FROM unnest(p_task, p_state, p_seconds, p_sign) AS v (task_id, state, d, sign)
  WHERE v.state IN ('success', 'failed', 'blocked', 'cancelled')
  GROUP BY v.task_id, v.state
  ON CONFLICT (task_id, state, slot) DO UPDATE
  SET runs = c.runs + excluded.runs,
      timed = c.timed + excluded.timed,
      seconds = c.seconds + excluded.seconds,
      b0 = c.b0 + excluded.b0, b1 = c.b1 + excluded.b1, b2 = c.b2 + excluded.b2,
      b3 = c.b3 + excluded.b3, b4 = c.b4 + excluded.b4, b5 = c.b5 + excluded.b5,
      b6 = c.b6 + excluded.b6, b7 = c.b7 + excluded.b7, b8 = c.b8 + excluded.b8,
      b9 = c.b9 + excluded.b9, b10 = c.b10 + excluded.b10, b11 = c.b11 + excluded.b11,
      b12 = c.b12 + excluded.b12;
END
$$;

-- One run: its old row out (if it was ended), its new row in (if it is).
CREATE OR REPLACE FUNCTION run_counts_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM run_counts_add(ARRAY[OLD.task_id, NEW.task_id], ARRAY[OLD.state, NEW.state],
                         ARRAY[date_part('epoch', OLD.finished_at - OLD.started_at),
                               date_part('epoch', NEW.finished_at - NEW.started_at)],
                         ARRAY[-1, 1]);
  RETURN NULL;
END
$$;
-- The runs a statement deleted, at once.
CREATE OR REPLACE FUNCTION run_counts_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM run_counts_add(array_agg(o.task_id), array_agg(o.state),
                         array_agg(date_part('epoch', o.finished_at - o.started_at)),
                         array_agg(-1))
  FROM old_runs o;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER run_counts_inserted AFTER INSERT ON runs
  FOR EACH ROW WHEN (NEW.state IN ('success', 'failed', 'blocked', 'cancelled'))
  EXECUTE FUNCTION run_counts_follow();
CREATE OR REPLACE TRIGGER run_counts_updated AFTER UPDATE OF state, started_at, finished_at
  ON runs
  FOR EACH ROW WHEN ((OLD.state, OLD.started_at, OLD.finished_at)
                     IS DISTINCT FROM (NEW.state, NEW.started_at, NEW.finished_at)
                     AND (OLD.state IN ('success', 'failed', 'blocked', 'cancelled')
                          OR NEW.state IN ('success', 'failed', 'blocked', 'cancelled')))
  EXECUTE FUNCTION run_counts_follow();
CREATE OR REPLACE TRIGGER run_counts_deleted AFTER DELETE ON runs
  REFERENCING OLD TABLE AS old_runs
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_deleted();
