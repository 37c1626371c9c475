-- The tasks that write the database of a swap on connection $1 (NULL: the state database)
-- and have a target, as two arrays (ids, targets) for swap/target_tasks.sql, which
-- resolves the targets in that database: a warehouse's names mean nothing here. Removed
-- tasks too: their records move with the table.
SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}') AS ids,
       coalesce(array_agg(t.target ORDER BY t.id), '{}') AS targets
FROM @schema@.tasks t
WHERE t.target IS NOT NULL
  AND @schema@.writes_swap_database(t.definition, $1::text)
