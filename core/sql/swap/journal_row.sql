-- Swap $1's row of the journal as JSON, read from a warehouse's copy of the journal
-- (swap/warehouse_tables.sql) and from the journal itself: when they differ, the
-- journal is brought forward to the copy (journal_forward.sql).
SELECT to_jsonb(s)::text
FROM @schema@.swaps s
WHERE s.id = $1
