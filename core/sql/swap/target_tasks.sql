-- Of the tasks $1 (ids) whose targets are $2 (swap/target_candidates.sql), those whose
-- target is the table $3.$4, as an array for
-- definitions/20-partitions.sql's swap_move_records. Run in the table's database (a
-- warehouse's too) with the session's search_path, as the task's own SQL resolves its
-- target: before the exchange's lock, whose transaction's search_path is empty.
SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}')
FROM unnest($1::integer[], $2::text[]) AS t(id, target)
WHERE to_regclass(t.target) = to_regclass(format('%I.%I', $3::text, $4::text))
