-- The task graph in one round trip: the tasks not removed ('t': id, name, graph, key
-- kind), every dependency ('d': task id, upstream id; those of removed tasks are
-- dropped on the C side) and the graphs not removed ('g': name).
SELECT 't', id::text, name, graph, key_kind
FROM @schema@.tasks
WHERE removed_at IS NULL
UNION ALL
SELECT 'd', d.task_id::text, d.upstream_id::text, NULL, NULL
FROM @schema@.task_deps d
UNION ALL
SELECT 'g', NULL, name, NULL, NULL
FROM @schema@.graphs
WHERE removed_at IS NULL
