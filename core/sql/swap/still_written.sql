-- The current tasks that still write the table of swap $1, one per line (NULL: none): in
-- mode v2, finish drops T itself, which its tasks must no longer write. They are the
-- tasks whose runs the claim has write T_v2 too (queue/claim.sql), by the same rule
-- (writes_swap_database, swap_names_target): the state database's tasks whose target
-- resolves to T, or a warehouse's whose target names T there.
SELECT string_agg(format('task %s (graph %s) writes it', t.name, t.graph), E'\n'
                  ORDER BY t.name)
FROM @schema@.swaps s
JOIN @schema@.tasks t
  ON @schema@.writes_swap_database(t.definition, s.connection)
 AND @schema@.swap_names_target(t.target, s.connection,
                                to_regclass(format('%I.%I', s.table_schema, s.table_name)),
                                s.table_schema, s.table_name, s.timings)
WHERE s.id = $1
  AND t.removed_at IS NULL
