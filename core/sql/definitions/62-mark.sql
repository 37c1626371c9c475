-- A person marks keys of a task as done without running them (mark): the one home of
-- what may be marked. Each key gets a run written in its final state, success, with the
-- mark (migrations/0013-marked-runs.sql) and the task's current version, in a batch of
-- kind 'mark' that says who did it: the records (definitions/20-partitions.sql) then
-- count the key complete for downstream (queue/claim.sql reads them), the SLA and the
-- versions, and the key's history shows the mark. The runs insert checks each key as
-- it checks any run (definitions/25-runs.sql): a key of the task's kind, due.

-- What mark_keys refuses, checked without writing anything, so that mark --dry-run
-- takes no batch id (a sequence value taken in a transaction that is rolled back stays
-- taken): an unknown task, a mark other than success or skipped, no reason, a key with a
-- run waiting or running, and a key the runs insert would refuse (definitions/25-runs.sql:
-- of another kind, or not due; the latest key is due last). Returns the task.
CREATE OR REPLACE FUNCTION mark_check(p_task text, p_keys text[], p_mark text, p_reason text)
RETURNS tasks LANGUAGE plpgsql STABLE
SET search_path = @schema@, pg_temp AS $$
DECLARE
  t tasks;
  busy record;
  bad record;
BEGIN
  SELECT * INTO t FROM tasks WHERE name = p_task AND removed_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('unknown task %L', p_task);
  END IF;
  IF p_mark IS NULL OR p_mark NOT IN ('success', 'skipped') THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('a key is marked success or skipped, not %L', p_mark);
  END IF;
  IF coalesce(p_reason, '') = '' THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = 'a mark needs a reason';
  END IF;
  SELECT r.key, r.state, r.id INTO busy
  FROM runs r
  WHERE r.task_id = t.id AND r.key = ANY (p_keys) AND r.state IN ('queued', 'running', 'held')
  ORDER BY r.key
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('key %L of task %s has a run %s (run %s)', busy.key, t.name,
                       busy.state, busy.id),
      HINT = 'wait for it, or cancel it first, then mark the key';
  END IF;
  SELECT k.key, key_refusal(t.name, t.key_kind, k.key) AS why INTO bad
  FROM unnest(p_keys) AS k(key)
  WHERE key_refusal(t.name, t.key_kind, k.key) IS NOT NULL
  ORDER BY k.key
  LIMIT 1;
  IF NOT FOUND THEN
    SELECT k.key, due_refusal(t.key_kind, k.key,
                              task_schedule(t.definition -> 'schedule', g.schedule)) AS why
    INTO bad
    FROM (SELECT max(key) AS key FROM unnest(p_keys) AS u(key)) k
    LEFT JOIN graphs g ON g.name = t.graph;
  END IF;
  PERFORM refuse_run(bad.why, t.name, bad.key);
  RETURN t;
END
$$;

-- Mark the keys, in a batch of kind 'mark'. Refused: what mark_check refuses (a key with a
-- run waiting or running: cancel it first). Runs as its caller, so that only a role that
-- may insert runs may mark.
--
-- The runs are inserted queued (never claimable: not before infinity, and nobody sees
-- them before the commit) and then made success, so that they hold each key's place in
-- runs_active meanwhile: a backfill enqueuing the same key at the same time waits for
-- the mark and then enqueues a re-run after it, or, if it came first, the mark fails,
-- rather than both being recorded out of order.
CREATE OR REPLACE FUNCTION mark_keys(p_task text, p_keys text[], p_mark text, p_reason text,
                                     p_command text)
RETURNS TABLE (batch bigint, run bigint, key text) LANGUAGE plpgsql
SET search_path = @schema@, pg_temp AS $$
DECLARE
  t tasks;
  b bigint;
BEGIN
  t := mark_check(p_task, p_keys, p_mark, p_reason);
  INSERT INTO batches (kind, command, runs)
  VALUES ('mark', p_command, (SELECT count(DISTINCT k) FROM unnest(p_keys) k))
  RETURNING id INTO b;
  BEGIN
    INSERT INTO runs (task_id, key, state, batch_id, not_before, started_at, finished_at,
                      version, marked, reason)
    SELECT t.id, k, 'queued', b, 'infinity', now(), now(), t.version, p_mark, p_reason
    FROM (SELECT DISTINCT k FROM unnest(p_keys) k) u
    ORDER BY k;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
      MESSAGE = format('a run of task %s was enqueued for one of the keys meanwhile', t.name),
      HINT = 'wait for it, or cancel it first, then mark the keys';
  END;
  RETURN QUERY
  WITH done AS (
    UPDATE runs r
    SET state = 'success'
    WHERE r.batch_id = b
    RETURNING r.batch_id, r.id, r.key
  )
  SELECT d.batch_id, d.id, d.key
  FROM done d
  ORDER BY d.key;
END
$$;
