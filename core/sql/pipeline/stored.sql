-- Every connection, graph and task the state store holds, removed ones included, with their
-- definitions and dependencies: what a load plans against. One JSON document, so that
-- a thousand tasks and their dependencies arrive in one round trip.
SELECT json_build_object(
         'connections', (SELECT coalesce(json_agg(json_build_object('name', name,
                                                                    'conninfo', conninfo,
                                                                    'source', source)
                                                  ORDER BY name), '[]')
                         FROM @schema@.connections),
         'graphs', (SELECT coalesce(json_agg(json_build_object('name', name,
                                                               'max_active', max_active,
                                                               'paused', paused,
                                                               'breaker', breaker,
                                                               'schedule', schedule,
                                                               'removed', removed_at IS NOT NULL)
                                             ORDER BY name), '[]')
                    FROM @schema@.graphs),
         'tasks', (SELECT coalesce(json_agg(json_build_object(
                                              'name', t.name,
                                              'graph', t.graph,
                                              'key', t.key_kind,
                                              'source', t.source,
                                              'removed', t.removed_at IS NOT NULL,
                                              'definition', t.definition,
                                              'depends_on',
                                              (SELECT coalesce(json_agg(json_build_object('task', u.name,
                                                                                          'offset', d.key_offset)
                                                                        ORDER BY u.name, d.key_offset), '[]')
                                               FROM @schema@.task_deps d
                                               JOIN @schema@.tasks u ON u.id = d.upstream_id
                                               WHERE d.task_id = t.id))
                                            ORDER BY t.name), '[]')
                   FROM @schema@.tasks t))
