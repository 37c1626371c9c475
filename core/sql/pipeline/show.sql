-- One task ($1) in full, as one JSON document: its fields (its connection by name and
-- connection string; null: the state database), its version (the first 12
-- hex digits: definitions/22-versions.sql), the definition as loaded,
-- its direct upstream and downstream tasks (removed downstream ones left out), its
-- graph's pause state, the number of its runs in each state, its SLA as loaded (null:
-- none), its breaker settings in force (task_breaker: its own over its graph's over the
-- defaults), and the schedule in force (its own over its graph's, task_schedule's form;
-- null for a task with key none) with "scheduled": whether it enqueues keys by itself (a
-- start; schedule_tasks() in definitions/72-schedule.sql says which): a task run by
-- hand still has its keys due by its schedule's delay and time zone. No row for an
-- unknown task.
SELECT json_build_object(
         'task', t.name,
         'graph', t.graph,
         'key', t.key_kind,
         'kind', CASE WHEN t.sql IS NOT NULL THEN 'sql' ELSE 'command' END,
         'target', t.target,
         'connection', t.definition ->> 'connection',
         'conninfo', (SELECT c.conninfo
                      FROM @schema@.connections c
                      WHERE c.name = t.definition ->> 'connection'),
         'retries', t.retries,
         'retry_delay', t.retry_delay_s,
         'timeout', t.timeout_s,
         'source', t.source,
         'loaded_at', @schema@.iso_utc(t.loaded_at),
         'version', left(t.version, 12),
         'removed_at', @schema@.iso_utc(t.removed_at),
         'graph_paused', g.paused,
         'upstream', (SELECT coalesce(json_agg(json_build_object('task', u.name,
                                                                 'graph', u.graph,
                                                                 'offset', d.key_offset)
                                               ORDER BY u.name, d.key_offset DESC), '[]')
                      FROM @schema@.task_deps d
                      JOIN @schema@.tasks u ON u.id = d.upstream_id
                      WHERE d.task_id = t.id),
         'downstream', (SELECT coalesce(json_agg(json_build_object('task', w.name,
                                                                   'graph', w.graph,
                                                                   'offset', d.key_offset)
                                                 ORDER BY w.name, d.key_offset DESC), '[]')
                        FROM @schema@.task_deps d
                        JOIN @schema@.tasks w ON w.id = d.task_id
                        WHERE d.upstream_id = t.id
                          AND w.removed_at IS NULL),
         'runs', (SELECT json_build_object(
                           'queued', count(*) FILTER (WHERE state = 'queued'),
                           'running', count(*) FILTER (WHERE state = 'running'),
                           'success', count(*) FILTER (WHERE state = 'success'),
                           'failed', count(*) FILTER (WHERE state = 'failed'),
                           'held', count(*) FILTER (WHERE state = 'held'),
                           'blocked', count(*) FILTER (WHERE state = 'blocked'),
                           'cancelled', count(*) FILTER (WHERE state = 'cancelled'))
                  FROM @schema@.runs
                  WHERE task_id = t.id),
         'sla', t.definition -> 'sla',
         'breaker', @schema@.task_breaker(t.definition -> 'breaker', g.breaker),
         'scheduled', x.s ? 'start' AND t.key_kind <> 'none',
         'schedule', CASE WHEN t.key_kind <> 'none' THEN x.s END,
         'definition', t.definition)
FROM @schema@.tasks t
JOIN @schema@.graphs g ON g.name = t.graph
CROSS JOIN LATERAL (SELECT @schema@.task_schedule(t.definition -> 'schedule', g.schedule)
                           AS s) x
WHERE t.name = $1
