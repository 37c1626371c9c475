-- The tasks whose target is the table of oid $1, as an array for
-- definitions/20-partitions.sql's swap_move_records: read before the exchange's lock,
-- with the session's search_path (the locked transaction's is empty, and a task's target
-- may be written unqualified). Removed tasks too: their records move with the table;
-- not a warehouse's task, whose target of that name is another table.
SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}')
FROM @schema@.tasks t
WHERE to_regclass(t.target) = $1::oid::regclass
  AND @schema@.writes_state_database(t.definition)
