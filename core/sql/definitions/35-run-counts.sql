-- The counts of ended runs that metrics reads (migrations/0016-run-counts.sql says what
-- they hold), kept by row triggers on runs that fire only when a run enters or leaves an
-- ended state (success, failed, blocked, cancelled), or an ended run's times change:
-- enqueueing, claiming, renewing a lease and a retry's return to the queue cost nothing
-- but the trigger's WHEN, and a backfill's INSERT of queued runs does not fire it. A run
-- that ends adds one upsert to its transaction, to the row of its task, its state and
-- the session's slot, which only that session's transactions write while it lives.
-- Run as the owner: nobody else writes the counts.
CREATE OR REPLACE FUNCTION run_counts_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  INSERT INTO run_counts AS c (task_id, state, slot, runs, timed, seconds, b0, b1, b2, b3,
                               b4, b5, b6, b7, b8, b9, b10, b11, b12)
  SELECT v.task_id, v.state, pg_backend_pid() % 16, sum(v.sign),
         coalesce(sum(v.sign) FILTER (WHERE v.d IS NOT NULL), 0), coalesce(sum(v.sign * v.d), 0),
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
  FROM (VALUES (OLD.task_id, OLD.state, date_part('epoch', OLD.finished_at - OLD.started_at), -1),
               (NEW.task_id, NEW.state, date_part('epoch', NEW.finished_at - NEW.started_at), 1))
       AS v (task_id, state, d, sign)
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
  FOR EACH ROW WHEN (OLD.state IN ('success', 'failed', 'blocked', 'cancelled'))
  EXECUTE FUNCTION run_counts_follow();
