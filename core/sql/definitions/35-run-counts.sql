-- The counts of ended runs that metrics reads (migrations/0016-run-counts.sql says what
-- they hold), kept by triggers on runs. The row triggers fire only when a run enters or
-- leaves an ended state (success, failed, blocked, cancelled), or an ended run's times
-- change: enqueueing, claiming, renewing a lease and a retry's return to the queue cost
-- nothing but the trigger's WHEN, and a backfill's INSERT of queued runs does not fire
-- them. A run that ends adds one upsert to its transaction, to the row of its task, its
-- state and the session's slot, which only that session's transactions write while it
-- lives. prune deletes thousands of runs per statement: its trigger is per statement,
-- one upsert per task and state. Run as the owner: nobody else writes the counts.

-- One trigger function for both kinds. A row trigger counts one run: its old row out
-- (if it was ended), its new row in (if it is). A statement trigger counts out the runs
-- its statement deleted, grouped first by task, state and bucket of the histogram, so
-- that prune's thousands of runs cost one upsert per group. Either way the counts go in
-- as a few entries, each a task, a state, how many runs (negative: counted out), how
-- many of them are timed, their seconds, and the longest duration among them (NULL:
-- not timed), which places them all in the histogram; states that are not ended are
-- left out. The histogram's bounds are here and nowhere else. The row trigger reads no
-- table and aggregates nothing before its upsert: it runs for every run a worker ends.
CREATE OR REPLACE FUNCTION run_counts_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  bounds CONSTANT float8[] := '{0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600}';
  e_task integer[];
  e_state text[];
  e_runs bigint[];
  e_timed bigint[];
  e_seconds numeric[];
  e_longest float8[];
  d float8;
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    IF OLD.state IN ('success', 'failed', 'blocked', 'cancelled') THEN
      d := date_part('epoch', OLD.finished_at - OLD.started_at);
      e_task := ARRAY[OLD.task_id];
      e_state := ARRAY[OLD.state];
      e_runs := ARRAY[-1];
      e_timed := ARRAY[CASE WHEN d IS NULL THEN 0 ELSE -1 END];
      e_seconds := ARRAY[-d::numeric];
      e_longest := ARRAY[d];
    END IF;
    IF NEW.state IN ('success', 'failed', 'blocked', 'cancelled') THEN
      d := date_part('epoch', NEW.finished_at - NEW.started_at);
      e_task := e_task || NEW.task_id;
      e_state := e_state || NEW.state;
      e_runs := e_runs || 1::bigint;
      e_timed := e_timed || CASE WHEN d IS NULL THEN 0 ELSE 1 END::bigint;
      e_seconds := e_seconds || d::numeric;
      e_longest := e_longest || d;
    END IF;
  ELSE
    SELECT array_agg(g.task_id), array_agg(g.state), array_agg(g.runs), array_agg(g.timed),
           array_agg(g.seconds), array_agg(g.longest)
    INTO e_task, e_state, e_runs, e_timed, e_seconds, e_longest
    FROM (SELECT o.task_id, o.state, -count(*) AS runs, -count(o.d) AS timed,
                 -sum(o.d::numeric) AS seconds, max(o.d) AS longest
          FROM (SELECT task_id, state, date_part('epoch', finished_at - started_at) AS d
                FROM old_runs
                WHERE state IN ('success', 'failed', 'blocked', 'cancelled')) o
          GROUP BY o.task_id, o.state, o.d IS NULL,
                   (SELECT count(*) FROM unnest(bounds) b WHERE b < o.d)) g;
  END IF;
  FOR i IN 1 .. coalesce(cardinality(e_task), 0) LOOP
    INSERT INTO run_counts AS c (task_id, state, slot, runs, timed, seconds, b0, b1, b2, b3,
                                 b4, b5, b6, b7, b8, b9, b10, b11, b12)
    VALUES (e_task[i], e_state[i], pg_backend_pid() % 16, e_runs[i], e_timed[i],
            coalesce(e_seconds[i], 0),
            CASE WHEN e_longest[i] <= bounds[1] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[2] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[3] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[4] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[5] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[6] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[7] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[8] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[9] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[10] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[11] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[12] THEN e_runs[i] ELSE 0 END,
            CASE WHEN e_longest[i] <= bounds[13] THEN e_runs[i] ELSE 0 END)
    ON CONFLICT (task_id, state, slot) DO UPDATE
    SET runs = c.runs + excluded.runs,
        timed = c.timed + excluded.timed,
        seconds = c.seconds + excluded.seconds,
        b0 = c.b0 + excluded.b0, b1 = c.b1 + excluded.b1, b2 = c.b2 + excluded.b2,
        b3 = c.b3 + excluded.b3, b4 = c.b4 + excluded.b4, b5 = c.b5 + excluded.b5,
        b6 = c.b6 + excluded.b6, b7 = c.b7 + excluded.b7, b8 = c.b8 + excluded.b8,
        b9 = c.b9 + excluded.b9, b10 = c.b10 + excluded.b10, b11 = c.b11 + excluded.b11,
        b12 = c.b12 + excluded.b12;
  END LOOP;
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
  FOR EACH STATEMENT EXECUTE FUNCTION run_counts_follow();
-- Their parts before the upsert moved into the trigger.
DROP FUNCTION IF EXISTS run_counts_deleted();
DROP FUNCTION IF EXISTS run_counts_add(integer[], text[], float8[], integer[]);
