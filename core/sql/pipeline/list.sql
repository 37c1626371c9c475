-- The tasks not removed, in graph then name order, of one graph ($1) or all (NULL),
-- as one JSON array. An upstream for an earlier key reads name[-1].
SELECT coalesce(json_agg(json_build_object(
                  'task', t.name,
                  'graph', t.graph,
                  'key', t.key_kind,
                  'kind', CASE WHEN t.sql IS NOT NULL THEN 'sql' ELSE 'command' END,
                  'upstream', coalesce((SELECT string_agg(u.name || CASE WHEN d.key_offset <> 0
                                                                       THEN '[' || d.key_offset || ']'
                                                                       ELSE '' END, ', '
                                                          ORDER BY u.name, d.key_offset DESC)
                                        FROM @schema@.task_deps d
                                        JOIN @schema@.tasks u ON u.id = d.upstream_id
                                        WHERE d.task_id = t.id), ''),
                  'target', t.target)
                ORDER BY t.graph, t.name), '[]')
FROM @schema@.tasks t
WHERE t.removed_at IS NULL
  AND ($1::text IS NULL OR t.graph = $1)
