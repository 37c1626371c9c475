-- The figures a monitoring system scrapes, read in one statement: runs by task and
-- state, the queue, the run duration histogram, open breakers, open and acknowledged
-- alerts, and the workers that still beat.
--
-- The queue counts apart the runs that wait on a person (stuck: stuck_runs(), the rule
-- of definitions/55-stuck.sql, queued or held) and those that are ready: queued, their
-- time come, and not stuck.
--
-- The runs by state and the histogram add two sets: the ended runs' counts, which
-- triggers keep in run_counts (definitions/35-run-counts.sql), summed over their slots,
-- and the runs queued, running or held, counted from runs through runs_active, which
-- includes their state. A run's duration is that of its last attempt, counted once it
-- has ended (success, failed, blocked, cancelled).
--
-- The buckets' upper bounds, in seconds, go from a quick query to a six-hour load; each
-- is written twice, in the count of its bucket (b0 ... b12, whose bounds the triggers
-- apply) and as its le, which the text exposition format takes its labels from.
WITH per AS MATERIALIZED (
  SELECT task_id, state, sum(runs) AS runs, sum(timed) AS ended,
         sum(seconds)::float8 AS ended_sum,
         sum(b0) AS b0, sum(b1) AS b1, sum(b2) AS b2, sum(b3) AS b3, sum(b4) AS b4,
         sum(b5) AS b5, sum(b6) AS b6, sum(b7) AS b7, sum(b8) AS b8, sum(b9) AS b9,
         sum(b10) AS b10, sum(b11) AS b11, sum(b12) AS b12
  FROM @schema@.run_counts
  GROUP BY task_id, state
  HAVING sum(runs) <> 0
  UNION ALL
  SELECT task_id, state, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  FROM @schema@.runs
  WHERE state IN ('queued', 'running', 'held')
  GROUP BY task_id, state
), per_task AS (
  SELECT t.graph, t.name AS task,
         p.state IN ('success', 'failed', 'blocked', 'cancelled') AS ended_state, p.*
  FROM per p
  JOIN @schema@.tasks t ON t.id = p.task_id
), stuck AS MATERIALIZED (
  SELECT s.graph, s.run
  FROM @schema@.stuck_runs(NULL, NULL) s
), ready AS (
  SELECT t.graph, count(*) AS ready,
         greatest(date_part('epoch', now() - min(greatest(r.queued_at, r.not_before))), 0)
           AS oldest_ready_age
  FROM @schema@.runs r
  JOIN @schema@.tasks t ON t.id = r.task_id
  WHERE r.state = 'queued'
    AND r.not_before <= now()
    AND r.id NOT IN (SELECT run FROM stuck)
  GROUP BY t.graph
), per_graph AS (
  -- Every graph not removed, and removed ones that still have runs.
  SELECT g.name AS graph,
         coalesce(sum(p.runs) FILTER (WHERE p.state = 'queued'), 0) AS queued,
         coalesce(sum(p.ended) FILTER (WHERE p.ended_state), 0) AS ended,
         coalesce(sum(p.ended_sum) FILTER (WHERE p.ended_state), 0) AS ended_sum,
         json_build_array(
           json_build_object('le', 0.1, 'count', coalesce(sum(p.b0) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 0.5, 'count', coalesce(sum(p.b1) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 1, 'count', coalesce(sum(p.b2) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 5, 'count', coalesce(sum(p.b3) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 10, 'count', coalesce(sum(p.b4) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 30, 'count', coalesce(sum(p.b5) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 60, 'count', coalesce(sum(p.b6) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 300, 'count', coalesce(sum(p.b7) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 600, 'count', coalesce(sum(p.b8) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 1800, 'count', coalesce(sum(p.b9) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 3600, 'count', coalesce(sum(p.b10) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 7200, 'count', coalesce(sum(p.b11) FILTER (WHERE p.ended_state), 0)),
           json_build_object('le', 21600, 'count', coalesce(sum(p.b12) FILTER (WHERE p.ended_state), 0)))
           AS buckets
  FROM @schema@.graphs g
  LEFT JOIN per_task p ON p.graph = g.name
  GROUP BY g.name
  HAVING bool_or(g.removed_at IS NULL) OR count(p.task_id) > 0
)
SELECT (SELECT coalesce(json_agg(json_build_object('graph', graph, 'task', task,
                                                   'state', state, 'count', runs)
                                 ORDER BY graph, task, state), '[]')
        FROM per_task) AS runs,
       (SELECT coalesce(json_agg(json_build_object('graph', g.graph, 'queued', g.queued,
                                                   'ready', coalesce(r.ready, 0),
                                                   'stuck', (SELECT count(*)
                                                             FROM stuck s
                                                             WHERE s.graph = g.graph),
                                                   'oldest_ready_age_seconds',
                                                   coalesce(r.oldest_ready_age, 0))
                                 ORDER BY g.graph), '[]')
        FROM per_graph g
        LEFT JOIN ready r ON r.graph = g.graph) AS queue,
       (SELECT coalesce(json_agg(json_build_object('graph', graph, 'count', ended,
                                                   'sum_seconds', ended_sum,
                                                   'buckets', buckets)
                                 ORDER BY graph), '[]')
        FROM per_graph) AS run_durations,
       (SELECT coalesce(json_agg(json_build_object('graph', t.graph, 'task', t.name,
                                                   'state', b.state, 'manual', b.manual,
                                                   'opened_at', @schema@.iso_utc(b.opened_at))
                                 ORDER BY t.graph, t.name), '[]')
        FROM @schema@.breakers b
        JOIN @schema@.tasks t ON t.id = b.task_id
        WHERE b.state IN ('open', 'half_open')) AS breakers,
       (SELECT coalesce(json_agg(json_build_object('kind', k.kind, 'state', s.state,
                                                   'count', (SELECT count(*)
                                                             FROM @schema@.alerts a
                                                             WHERE a.kind = k.kind
                                                               AND a.state = s.state))
                                 ORDER BY k.kind, s.ord), '[]')
        FROM (SELECT DISTINCT kind FROM @schema@.alerts) k,
             (VALUES (1, 'open'), (2, 'acked')) s(ord, state)) AS alerts,
       -- A worker that has not beaten for a day died without stopping: it is left out.
       (SELECT coalesce(json_agg(json_build_object('worker', name, 'host', host,
                                                   'pid', pid, 'graph', graph,
                                                   'concurrency', concurrency,
                                                   'started_at', @schema@.iso_utc(started_at),
                                                   'heartbeat_at', @schema@.iso_utc(heartbeat_at),
                                                   'heartbeat_timestamp_seconds',
                                                   date_part('epoch', heartbeat_at))
                                 ORDER BY name), '[]')
        FROM @schema@.workers
        WHERE stopped_at IS NULL
          AND heartbeat_at > now() - interval '1 day') AS workers
