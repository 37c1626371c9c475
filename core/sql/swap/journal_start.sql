-- A new swap of table $1.$2, whose incoming table is $3 and whose retired one will be
-- $4, in the transaction that creates the incoming table. Its mode is kept in timings
-- ($5: {"mode": "v2"}, or {}), which has no column of its own for it.
INSERT INTO @schema@.swaps (table_schema, table_name, shadow_name, old_name, timings)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
