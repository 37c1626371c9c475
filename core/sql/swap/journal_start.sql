-- A new swap ($1, an id taken by swap/journal_next_id.sql) of table $2.$3 of connection
-- $7's database (NULL: the state database), whose incoming table is $4 and whose retired
-- one will be $5, in the transaction that creates the incoming table. Its mode is kept in
-- timings ($6: {"mode": "v2"}, or {}; on a connection with "bare" too, see
-- swap/bare_name.sql), which has no column of its own for it. On a
-- connection it is written in the warehouse's copy of the journal first (the id is the
-- state store's, so that both say the same swap), then brought forward here.
INSERT INTO @schema@.swaps (id, table_schema, table_name, shadow_name, old_name, timings,
                            connection)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
