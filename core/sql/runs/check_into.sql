-- For backfill --into: the tasks ($1) that have no target, those that write a warehouse
-- (a connection of their own: a swap rebuilds a table of the state database), and those
-- whose target has no T_backfill to write, each as a list for the error. T_backfill
-- exists from a swap's start until the swap makes it T, and again after a rollback; a
-- swap in mode v2 has no T_backfill (its tasks write T_v2 by themselves).
SELECT string_agg(quote_literal(t.name), ', ' ORDER BY t.name)
         FILTER (WHERE t.target IS NULL),
       string_agg(quote_literal(t.name) || ' (' || t.target || ')', ', ' ORDER BY t.name)
         FILTER (WHERE t.target IS NOT NULL
                   AND @schema@.writes_swap_database(t.definition, NULL)
                   AND @schema@.backfill_swap_of(t.target) IS NULL),
       string_agg(quote_literal(t.name) || ' (' || (t.definition ->> 'connection') || ')',
                  ', ' ORDER BY t.name)
         FILTER (WHERE t.target IS NOT NULL
                   AND NOT @schema@.writes_swap_database(t.definition, NULL))
FROM @schema@.tasks t
WHERE t.id = ANY ($1::integer[])
