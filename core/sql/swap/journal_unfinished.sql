-- The swaps not finished of connection $1's database (NULL: the state database's), or of
-- its table $2.$3 alone: read in the state store's journal and in a warehouse's copy of
-- it (swap/warehouse_tables.sql), they are those whose journal a killed shell may have
-- left a step behind the copy (swap/journal_forward.sql).
SELECT id
FROM @schema@.swaps
WHERE state <> 'finished'
  AND connection IS NOT DISTINCT FROM $1::text
  AND ($2::text IS NULL OR (table_schema, table_name) = ($2, $3::text))
ORDER BY id
