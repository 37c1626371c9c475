-- Why a key is not done, and whether only a person can move it: the one rule, for why
-- (core/sql/why/), the stuck keys of status and handoff, the stuck runs of metrics and
-- of --wait (stuck_runs) and the runs worker --drain leaves (status/left_stuck.sql).
--
-- A key is stuck when only a person can move it: its root cause is a breaker tripped
-- by hand or whose probe failed, a paused graph, a failed, blocked or cancelled run, an
-- upstream key nobody asked for, or it waits on an upstream key that is stuck. A breaker
-- that opened by itself probes again on its own, and a key not due, backing off, behind
-- a full graph, running or ready moves without anyone.

-- Whether worker w is alive: not stopped, and it beat in the last 20 seconds (a worker
-- renews its leases and heartbeat at least every 5 seconds, core/worker.c), so that a
-- few missed beats on a loaded machine do not make it dead. The one rule of a live
-- worker, for why's no_worker and --wait's "no live worker" (status/batch_progress.sql).
CREATE OR REPLACE FUNCTION worker_live(w workers) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT w.stopped_at IS NULL AND w.heartbeat_at > now() - interval '20 seconds'
$$;

-- How many runs are running under worker p_worker's name: those in its slots and those
-- it left in hand, which stay running until their leases run out. What registering
-- again and stopping record (workers.abandoned, queue/register.sql, unregister.sql),
-- what the reaper settles (queue/reap.sql) and what a claim counts for a worker that
-- stopped beating (the fleet of queue/claim.sql) read; runs_running finds them.
CREATE OR REPLACE FUNCTION worker_running_runs(p_worker text) RETURNS bigint
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT count(*) FROM runs WHERE state = 'running' AND worker = p_worker
$$;

-- One (task, key) and, while it waits for upstream keys that are not done, each of
-- those, walked depth first: the rows of key_why, each with its path (the positions of
-- the upstreams walked down to it, so that ordering by path gives the tree), emitted
-- after the upstreams below it, since whether a waiting key is stuck is whether one of
-- them is. The key's run is its active run (queued, running, held: there is at most one,
-- runs_active), or else production's latest (partitions). An upstream is done as the
-- claim (queue/claim.sql) reads it: production's record built by a successful run and
-- nothing waiting or running for it. p_seen guards against a cycle, which pipeline load
-- refuses anyway; below depth 8 the upstreams are not walked, and the row says so.
CREATE OR REPLACE FUNCTION key_why_walk(p_task integer, p_key text, p_path integer[],
                                        p_seen text[])
RETURNS TABLE (path integer[], depth integer, task text, key text, state text, cause text,
               reason text, detail text, since timestamptz, action text, stuck boolean,
               leaf boolean, run bigint)
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
#variable_conflict use_column
DECLARE
  t tasks;
  g graphs;
  b breakers;
  r runs;
  u record;
  c record;
  s jsonb;
  due timestamptz;
  waits_for text[] := '{}';
  any_stuck boolean := false;
  n integer := 0;
  me text := p_task || ' ' || p_key;
  deep boolean := cardinality(p_path) >= 8;
  cut boolean := false;
  busy integer;
  cap batches;
  -- The key as backfill and force-run take it: a task without keys runs its key ''
  -- for any range, which they do not take as a word.
  key_word text := coalesce(nullif(p_key, ''), 'today');
BEGIN
  SELECT * INTO t FROM tasks x WHERE x.id = p_task;
  SELECT * INTO g FROM graphs x WHERE x.name = t.graph;
  SELECT * INTO b FROM breakers x WHERE x.task_id = p_task;
  SELECT * INTO r FROM runs x
  WHERE x.task_id = p_task AND x.key = p_key AND x.state IN ('queued', 'running', 'held');
  IF NOT FOUND THEN
    SELECT x.* INTO r FROM partitions p JOIN runs x ON x.id = p.run_id
    WHERE p.task_id = p_task AND p.key = p_key;
  END IF;

  IF r.state = 'queued' AND NOT r.ignore_deps AND NOT coalesce(g.paused, false)
     AND (coalesce(b.state, 'closed') = 'closed' OR r.id = b.probe_run_id) THEN
    FOR u IN
      SELECT d.upstream_id, ut.name, key_shift(t.key_kind, p_key, d.key_offset) AS ukey
      FROM task_deps d
      JOIN tasks ut ON ut.id = d.upstream_id
      WHERE d.task_id = p_task
        AND NOT EXISTS (SELECT 1
                        FROM done_keys p
                        WHERE p.task_id = d.upstream_id
                          AND p.key = key_shift(t.key_kind, p_key, d.key_offset))
      ORDER BY ut.name, 3
    LOOP
      waits_for := waits_for || (u.name || ' ' || coalesce(nullif(u.ukey, ''), ''''''));
      IF deep OR (u.upstream_id || ' ' || u.ukey) = ANY (p_seen) THEN
        cut := true;
        CONTINUE;
      END IF;
      n := n + 1;
      FOR c IN SELECT * FROM key_why_walk(u.upstream_id, u.ukey, p_path || n,
                                          p_seen || me) w
      LOOP
        path := c.path; depth := c.depth; task := c.task; key := c.key; state := c.state;
        cause := c.cause; reason := c.reason; detail := c.detail; since := c.since;
        action := c.action; stuck := c.stuck; leaf := c.leaf; run := c.run;
        any_stuck := any_stuck OR (c.stuck AND c.depth = cardinality(p_path) + 1);
        RETURN NEXT;
      END LOOP;
    END LOOP;
  END IF;

  path := p_path;
  depth := cardinality(p_path);
  task := t.name;
  key := p_key;
  state := r.state;
  detail := NULL;
  since := NULL;
  action := NULL;
  stuck := false;
  leaf := n = 0;
  run := r.id;
  IF r.id IS NULL THEN
    state := 'missing';
    s := task_schedule(t.definition -> 'schedule', g.schedule);
    due := key_due_at(t.key_kind, p_key, s);
    IF due > now() THEN
      state := 'not_due';
      cause := 'not_due';
      reason := 'is not due until ' || iso_utc(due);
    ELSIF EXISTS (SELECT 1
                  FROM schedule_tasks(now()) x
                  WHERE x.task_id = p_task
                    AND NOT x.paused
                    AND p_key >= x.start
                    AND (x.last_key IS NULL OR p_key > x.last_key)) THEN
      cause := 'scheduled';
      reason := 'has no run yet: its schedule enqueues it at its next pass';
    ELSE
      cause := 'not_asked';
      reason := 'has no run: nobody asked for it';
      action := format('backfill %s %s', t.name, key_word);
      stuck := true;
    END IF;
  ELSIF r.state = 'success' AND r.marked IS NOT NULL THEN
    state := CASE r.marked WHEN 'skipped' THEN 'skipped' ELSE 'success' END;
    cause := 'marked';
    reason := format('is marked %s by %s', r.marked,
                     (SELECT x.created_by FROM batches x WHERE x.id = r.batch_id));
    detail := r.reason;
    since := r.finished_at;
  ELSIF r.state = 'success' THEN
    cause := 'done';
    reason := format('is done: run %s succeeded', r.id);
    since := r.finished_at;
  ELSIF r.state IN ('failed', 'blocked', 'cancelled') THEN
    -- The state itself, so that a key waiting on it reads "upstream U K failed".
    cause := r.state;
    reason := r.state;
    detail := CASE r.state
                WHEN 'failed' THEN format('attempt %s of %s%s: %s', r.attempt, t.retries + 1,
                                          ' [' || r.error_class || ']', r.error)
                WHEN 'blocked' THEN 'a check failed: ' || r.error
                -- A running run stopped on request says only that; its batch, if
                -- cancelled whole, says who.
                ELSE concat_ws('; ', r.error,
                               (SELECT format('batch %s was cancelled by %s', x.id, x.cancelled_by)
                                FROM batches x
                                WHERE x.id = r.batch_id AND x.cancelled_by IS NOT NULL)) END;
    since := r.finished_at;
    action := format('force-run %s %s', t.name, key_word);
    stuck := true;
  ELSIF r.state = 'running' THEN
    cause := 'running';
    reason := format('is running on worker %s since %s', r.worker, iso_utc(r.started_at));
    detail := CASE WHEN r.lease_until < now()
                   THEN format('attempt %s; its lease expired at %s: the next worker takes it back',
                               r.attempt, iso_utc(r.lease_until))
                   ELSE format('attempt %s of %s, lease until %s', r.attempt, t.retries + 1,
                               iso_utc(r.lease_until)) END;
    since := r.started_at;
  ELSIF g.paused THEN
    cause := 'paused';
    reason := format('graph %s is paused', g.name);
    detail := 'paused by ' || g.paused_by;
    since := g.paused_at;
    action := 'pipeline resume ' || g.name;
    stuck := true;
  ELSIF b.state = 'open' THEN
    cause := 'breaker';
    reason := format('the breaker of %s is open', t.name);
    detail := b.reason || CASE WHEN b.manual
                               THEN '; only a reset closes it'
                               ELSE format('; a probe run is let through at %s',
                                           iso_utc(b.retry_at)) END;
    since := b.opened_at;
    action := 'breaker reset ' || t.name;
    stuck := b.manual OR b.reason LIKE 'the probe run failed%';
  ELSIF r.state = 'held' AND coalesce(b.state, 'closed') = 'closed' THEN
    -- Left held by hand or by an older datashell: only a reset releases it.
    cause := 'breaker';
    reason := format('is held, though the breaker of %s is closed', t.name);
    action := 'breaker reset ' || t.name;
    stuck := true;
  ELSIF b.state = 'half_open' AND r.id IS DISTINCT FROM b.probe_run_id THEN
    cause := 'breaker';
    reason := format('the breaker of %s is half open', t.name);
    detail := format('probe run %s decides whether it closes', b.probe_run_id);
    since := b.opened_at;
  ELSIF cardinality(waits_for) > 0 THEN
    cause := 'upstream';
    reason := 'waits for upstream ' || array_to_string(waits_for, ', ');
    detail := CASE WHEN cut THEN 'some of them are not shown: too deep, or a cycle' END;
    since := r.queued_at;
    stuck := any_stuck;
  ELSIF r.not_before > now() AND r.error_class = 'unreachable' THEN
    -- Its named connection refused it (end_run): the connection's incident says since when.
    cause := 'connection';
    reason := format('waits for connection %s, which refuses connections', r.connection);
    detail := format('tries again at %s: %s', iso_utc(r.not_before), r.error);
    since := coalesce((SELECT a.first_seen FROM alerts a
                       WHERE a.incident = 'connection:' || r.connection AND a.state <> 'resolved'),
                      r.finished_at);
    action := 'alerts --kind connection_refused';
  ELSIF r.not_before > now() THEN
    cause := 'backoff';
    reason := 'is backing off until ' || iso_utc(r.not_before);
    detail := CASE WHEN r.attempt > 0
                   THEN format('retry %s of %s after: %s', r.attempt, t.retries, r.error) END;
    since := r.finished_at;
  ELSE
    SELECT count(*) INTO busy
    FROM runs x JOIN tasks y ON y.id = x.task_id
    WHERE x.state = 'running' AND y.graph = g.name;
    since := greatest(r.queued_at, r.not_before);
    SELECT * INTO cap FROM batches WHERE id = r.batch_id AND max_active IS NOT NULL;
    IF busy >= g.max_active THEN
      cause := 'cap';
      reason := format('graph %s is at its cap (%s of %s running)', g.name, busy, g.max_active);
    ELSIF cap.id IS NOT NULL
          AND (SELECT count(*) FROM runs x WHERE x.batch_id = cap.id AND x.state = 'running')
              >= cap.max_active THEN
      -- backfill --max-active: the batch's own cap (queue/claim.sql).
      cause := 'cap';
      reason := format('batch %s is at its cap (%s running)', cap.id, cap.max_active);
    ELSIF NOT EXISTS (SELECT 1
                      FROM workers w
                      WHERE worker_live(w)
                        AND (w.graph IS NULL OR w.graph = g.name)) THEN
      cause := 'no_worker';
      reason := 'is ready, but no live worker can run it';
      detail := format('no worker of graph %s has beaten in the last 20s', g.name);
      action := 'worker';
    ELSE
      cause := 'ready';
      reason := 'is ready: the next worker with a free slot claims it';
    END IF;
  END IF;
  RETURN NEXT;
END
$$;

-- Why key p_key of task p_task (an id) is not done, as a tree: the key at depth 0,
-- then each upstream key it waits for that is not done, and theirs, depth first. Each
-- row: the (task, key), its state (a run's, or missing, not_due, skipped), the cause
-- (done, marked, not_due, scheduled, not_asked, failed, blocked, cancelled, running,
-- paused, breaker, upstream, connection, backoff, cap, no_worker, ready), a reason that
-- reads after the task and key, its detail (an error, who, when next), since when, the
-- command that acts on it where there is one, whether it is stuck, whether it is a leaf
-- (a root cause: nothing below it), and its run.
CREATE OR REPLACE FUNCTION key_why(p_task integer, p_key text)
RETURNS TABLE (depth integer, task text, key text, state text, cause text, reason text,
               detail text, since timestamptz, action text, stuck boolean, leaf boolean,
               run bigint)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT w.depth, w.task, w.key, w.state, w.cause, w.reason, w.detail, w.since, w.action,
         w.stuck, w.leaf, w.run
  FROM key_why_walk(p_task, p_key, '{}', '{}') w
  ORDER BY w.path
$$;

-- The root cause of a key: its first leaf that is stuck when the key is, or else its
-- first leaf (the key itself when it waits for nothing). It walks the tree itself
-- rather than through key_why, which would sort it once more for each key of a
-- backlog.
CREATE OR REPLACE FUNCTION key_root_cause(p_task integer, p_key text)
RETURNS TABLE (depth integer, task text, key text, state text, cause text, reason text,
               detail text, since timestamptz, action text, stuck boolean, leaf boolean,
               run bigint)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT w.depth, w.task, w.key, w.state, w.cause, w.reason, w.detail, w.since, w.action,
         w.stuck, w.leaf, w.run
  FROM key_why_walk(p_task, p_key, '{}', '{}') w
  WHERE w.leaf
  ORDER BY w.stuck DESC, w.path
  LIMIT 1
$$;

-- A root cause in one line, told from where the key that waits for it stands (depth
-- 0: the key itself): its own ("graph G is paused") or an upstream's ("upstream U K
-- failed", "upstream U K: the breaker of U is open").
CREATE OR REPLACE FUNCTION cause_line(p_depth integer, p_task text, p_key text, p_cause text,
                                      p_reason text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
  SELECT CASE WHEN p_depth = 0 THEN p_reason
              WHEN p_cause IN ('paused', 'breaker', 'cap')
                  THEN format('upstream %s %s: %s', p_task, p_key, p_reason)
              ELSE format('upstream %s %s %s', p_task, p_key, p_reason) END
$$;

-- Why a waiting run (queued or held) cannot move by itself: its root cause in one line.
CREATE OR REPLACE FUNCTION run_root_reason(r runs) RETURNS text
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT cause_line(c.depth, c.task, c.key, c.cause, c.reason)
  FROM key_root_cause(r.task_id, r.key) c
$$;

-- The waiting runs (queued, held) of graph p_graph and batch p_batch (NULL: of every
-- graph, of every batch) that are stuck, with their root cause in one line (reason)
-- and in parts: status and handoff list them, metrics counts them, --wait stops on
-- those of its batch (status/batch_progress.sql).
--
-- key_why decides, but walking every waiting run would cost a backlog of ten thousand
-- runs many seconds, so only those that could be stuck are walked (maybe): a run of a
-- paused graph, held, or of a task whose breaker is not closed; a run with an upstream
-- key that is neither done nor waiting or running (failed, blocked, cancelled, never
-- enqueued); and, up from those, the runs that wait for a key whose run is among them
-- (read through runs_active: a planner that guesses a few rows for a CTE of thousands
-- joins it as a cross product). A run left out waits only for keys on their way, which
-- move by themselves.
--
-- Never JIT compiled: over a year of history (10 million runs) the planner's estimates
-- for runs grow past jit_above_cost, and compiling this plan took 0.9 to 2.9 s of a
-- statement that runs in 13 ms, for status, metrics and every calendar alike.
CREATE OR REPLACE FUNCTION stuck_runs(p_graph text, p_batch bigint)
RETURNS TABLE (graph text, task text, key text, state text, run bigint, root_task text,
               root_key text, root_state text, cause text, reason text, detail text,
               since timestamptz, action text)
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp SET jit = off AS $$
  WITH RECURSIVE waiting AS (
    SELECT r.id, r.task_id, r.key, r.state, r.ignore_deps, t.key_kind, g.paused
    FROM runs r
    JOIN tasks t ON t.id = r.task_id
    JOIN graphs g ON g.name = t.graph
    WHERE r.state IN ('queued', 'held')
      AND t.removed_at IS NULL
  ), maybe (id, task_id, key) AS (
    SELECT w.id, w.task_id, w.key
    FROM waiting w
    WHERE w.paused
       OR w.state = 'held'
       OR w.task_id IN (SELECT h.task_id FROM held_tasks h)
       OR (NOT w.ignore_deps
           AND EXISTS (SELECT 1
                       FROM task_deps d
                       CROSS JOIN LATERAL (SELECT key_shift(w.key_kind, w.key, d.key_offset)
                                                    AS key) k
                       WHERE d.task_id = w.task_id
                         AND NOT EXISTS (SELECT 1
                                         FROM done_keys p
                                         WHERE p.task_id = d.upstream_id
                                           AND p.key = k.key)
                         AND NOT EXISTS (SELECT 1
                                         FROM runs u
                                         WHERE u.task_id = d.upstream_id
                                           AND u.key = k.key
                                           AND u.state IN ('queued', 'running', 'held'))))
    UNION
    SELECT w.id, w.task_id, w.key
    FROM maybe x
    JOIN task_deps d ON d.upstream_id = x.task_id
    JOIN tasks dt ON dt.id = d.task_id
    JOIN runs w ON w.task_id = d.task_id
               AND w.key = key_shift(dt.key_kind, x.key, -d.key_offset)
               AND w.state IN ('queued', 'held')
               AND NOT w.ignore_deps
    WHERE dt.removed_at IS NULL
  )
  SELECT t.graph, t.name, r.key, r.state, r.id, c.task, c.key, c.state, c.cause,
         cause_line(c.depth, c.task, c.key, c.cause, c.reason), c.detail, c.since, c.action
  FROM (SELECT DISTINCT id FROM maybe) m
  JOIN runs r ON r.id = m.id
  JOIN tasks t ON t.id = r.task_id
  CROSS JOIN LATERAL key_root_cause(r.task_id, r.key) c
  WHERE (p_graph IS NULL OR t.graph = p_graph)
    AND (p_batch IS NULL OR r.batch_id = p_batch)
    AND c.stuck
$$;

-- Signatures of before worker_live: CREATE OR REPLACE would keep them beside the new.
DROP FUNCTION IF EXISTS key_why(integer, text, integer);
DROP FUNCTION IF EXISTS key_why_walk(integer, text, integer[], text[], integer);

-- Its place is stuck_runs' now.
DROP FUNCTION IF EXISTS run_stuck_reason(runs);
