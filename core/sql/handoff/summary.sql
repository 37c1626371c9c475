-- The on-call summary over the last $1 seconds, one JSON document read in one
-- statement: what is open now (alerts, breakers, swaps not finished, the keys that are
-- stuck: only a person can move them, definitions/55-stuck.sql) and what happened
-- in the window (failed and late keys, batches, swaps that moved, the audit log). At
-- most $2 rows per section (NULL: all): a summary, not a dump; the column total of each
-- row counts the section's rows in all. due_at and the commands' id serve only to sort;
-- the C side drops them and the totals.
WITH window_start AS (
  SELECT now() - make_interval(secs => $1::bigint) AS since
), stuck AS MATERIALIZED (
  SELECT *
  FROM @schema@.stuck_runs(NULL, NULL)
)
SELECT json_build_object(
  'since', (SELECT @schema@.iso_utc(since) FROM window_start),
  'open_alerts', (SELECT coalesce(json_agg(a ORDER BY a.last_seen DESC, a.id DESC), '[]')
                  FROM (SELECT id, state, severity, kind, count, task, key, summary,
                               @schema@.iso_utc(last_seen) AS last_seen,
                               count(*) OVER () AS total
                        FROM @schema@.alerts
                        WHERE state <> 'resolved'
                        ORDER BY last_seen DESC, id DESC
                        LIMIT $2::integer) a),
  'open_breakers', (SELECT coalesce(json_agg(b ORDER BY b.task), '[]')
                    FROM (SELECT t.name AS task,
                                 b.state,
                                 b.consecutive AS failures,
                                 (SELECT count(*)
                                  FROM @schema@.runs r
                                  WHERE r.task_id = b.task_id
                                    AND r.state = 'held') AS held,
                                 @schema@.iso_utc(b.opened_at) AS opened_at,
                                 b.opened_by,
                                 b.reason
                          FROM @schema@.breakers b
                          JOIN @schema@.tasks t ON t.id = b.task_id
                          WHERE b.state <> 'closed'
                            AND t.removed_at IS NULL) b),
  'stuck_keys', (SELECT coalesce(json_agg(x ORDER BY x.task, x.key), '[]')
                 FROM (SELECT s.task, s.key, s.state, s.cause, s.reason AS root_cause, s.action,
                              count(*) OVER () AS total
                       FROM stuck s
                       ORDER BY s.task, s.key
                       LIMIT $2::integer) x),
  'failed_keys', (SELECT coalesce(json_agg(f ORDER BY f.finished_at DESC), '[]')
                  FROM (SELECT t.name AS task,
                               r.key,
                               r.state,
                               r.error_class AS class,
                               r.error,
                               @schema@.iso_utc(r.finished_at) AS finished_at,
                               count(*) OVER () AS total
                        FROM @schema@.runs r
                        JOIN @schema@.partitions p ON p.run_id = r.id
                        JOIN @schema@.tasks t ON t.id = r.task_id
                        CROSS JOIN window_start w
                        WHERE r.finished_at >= w.since
                          AND r.state IN ('failed', 'blocked')
                          AND t.removed_at IS NULL
                        ORDER BY r.finished_at DESC
                        LIMIT $2::integer) f),
  'late_keys', (SELECT coalesce(json_agg(l ORDER BY l.due), '[]')
                FROM (SELECT t.name AS task,
                             k.key,
                             @schema@.iso_utc(d.due) AS due,
                             d.due AS due_at,
                             coalesce(p.state, 'missing') AS state,
                             count(*) OVER () AS total
                      FROM @schema@.tasks t
                      LEFT JOIN @schema@.graphs g ON g.name = t.graph
                      CROSS JOIN window_start w
                      CROSS JOIN LATERAL @schema@.key_series(
                                   t.key_kind,
                                   to_char(w.since AT TIME ZONE 'UTC' - interval '2 days',
                                           CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24'
                                                           ELSE 'YYYY-MM-DD' END),
                                   to_char(now() AT TIME ZONE 'UTC',
                                           CASE t.key_kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24'
                                                           ELSE 'YYYY-MM-DD' END)) AS k(key)
                      CROSS JOIN LATERAL (SELECT @schema@.sla_deadline(t.definition -> 'sla',
                                                                       t.key_kind, k.key) AS due) d
                      LEFT JOIN @schema@.partitions p ON p.task_id = t.id AND p.key = k.key
                      WHERE t.removed_at IS NULL
                        AND t.key_kind <> 'none'
                        AND jsonb_typeof(t.definition -> 'sla') = 'object'
                        AND d.due >= w.since
                        AND @schema@.key_late(t.key_kind, k.key, t.definition -> 'sla',
                                              @schema@.task_schedule(
                                                t.definition -> 'schedule', g.schedule),
                                              p.state, now())
                      ORDER BY d.due
                      LIMIT $2::integer) l),
  'batches', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]')
              FROM (SELECT b.id,
                           b.kind,
                           b.command,
                           b.created_by,
                           @schema@.iso_utc(b.created_at) AS created_at,
                           b.runs,
                           count(r.id) FILTER (WHERE r.state = 'success') AS succeeded,
                           count(r.id) FILTER (WHERE r.state IN ('failed', 'blocked')) AS failed,
                           count(r.id) FILTER (WHERE r.state IN ('queued', 'running', 'held')
                                                 AND r.id NOT IN (SELECT run FROM stuck))
                             AS in_flight,
                           count(r.id) FILTER (WHERE r.id IN (SELECT run FROM stuck)) AS stuck,
                           b.cancelled_at IS NOT NULL AS cancelled,
                           count(*) OVER () AS total
                    FROM @schema@.batches b
                    LEFT JOIN @schema@.runs r ON r.batch_id = b.id
                    CROSS JOIN window_start w
                    WHERE b.created_at >= w.since
                    GROUP BY b.id
                    ORDER BY b.id DESC
                    LIMIT $2::integer) x),
  'swaps', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]')
            FROM (SELECT s.id,
                         -- A warehouse's table (swap-table --connection) says whose.
                         coalesce(s.connection || ': ', '') ||
                           format('%I.%I', s.table_schema, s.table_name) AS table,
                         @schema@.swap_shown_state(s.state, s.timings) AS state,
                         s.started_by,
                         @schema@.iso_utc(s.started_at) AS started_at,
                         @schema@.iso_utc(greatest(s.checked_at, s.swapped_at, s.rolled_back_at,
                                                   s.finished_at, s.started_at)) AS changed_at,
                         count(*) OVER () AS total
                  FROM @schema@.swaps s
                  CROSS JOIN window_start w
                  WHERE greatest(s.checked_at, s.swapped_at, s.rolled_back_at, s.finished_at,
                                 s.started_at) >= w.since
                     OR s.state <> 'finished'
                  ORDER BY s.id DESC
                  LIMIT $2::integer) x),
  'commands', (SELECT coalesce(json_agg(c ORDER BY c.id), '[]')
               FROM (SELECT a.id,
                            @schema@.iso_utc(a.at) AS at,
                            a.db_user AS user,
                            a.command,
                            a.outcome,
                            count(*) OVER () AS total
                     FROM @schema@.audit_log a
                     CROSS JOIN window_start w
                     WHERE a.at >= w.since
                     ORDER BY a.id DESC
                     LIMIT $2::integer) c))
