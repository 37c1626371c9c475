-- For backfill --into: the tasks ($1) that have no target, those whose target has no
-- T_backfill to write in their own database, and, of these, those whose target names a
-- table of another database (the state database's, or another connection's) that has
-- one, each as a list for the error: a run writes the T_backfill of a swap of its own
-- database (backfill_swap_of), through its own connection. T_backfill exists from a
-- swap's start until the swap makes it T, and again after a rollback; a swap in mode v2
-- has no T_backfill (its tasks write T_v2 by themselves).
SELECT string_agg(quote_literal(t.name), ', ' ORDER BY t.name)
         FILTER (WHERE t.target IS NULL),
       string_agg(quote_literal(t.name) || ' (' || t.target || ')', ', ' ORDER BY t.name)
         FILTER (WHERE t.target IS NOT NULL
                   AND @schema@.backfill_swap_of(t.target, t.definition) IS NULL),
       string_agg(quote_literal(t.name) || ' (' ||
                    coalesce('connection ' || (t.definition ->> 'connection'),
                             'the state database') ||
                    '; swap ' || o.id || ' of ' || o.table_name || ' is on ' ||
                    coalesce('connection ' || o.connection, 'the state database') || ')',
                  ', ' ORDER BY t.name)
         FILTER (WHERE o.id IS NOT NULL
                   AND @schema@.backfill_swap_of(t.target, t.definition) IS NULL)
FROM @schema@.tasks t
LEFT JOIN LATERAL (SELECT w.id, w.table_name, w.connection
                   FROM @schema@.swaps w
                   WHERE w.state IN ('started', 'checked', 'rolled back')
                     AND coalesce(w.timings->>'mode', 'swap') = 'swap'
                     AND NOT @schema@.writes_swap_database(t.definition, w.connection)
                     AND @schema@.swap_names_target(
                           t.target, w.connection,
                           to_regclass(format('%I.%I', w.table_schema, w.table_name)),
                           w.table_schema, w.table_name, w.timings)
                   ORDER BY w.id
                   LIMIT 1) o ON true
WHERE t.id = ANY ($1::integer[])
