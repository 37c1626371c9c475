-- A command that waited for what it started ($1, its 'waiting' row) says what the
-- waiting came to: $2 'ok' or 'failed', $3 the error, $4 more of what it touched.
-- Returns the row's id, or no row when there was none to conclude (see audit_conclude).
SELECT id
FROM @schema@.audit_conclude($1::bigint, $2, $3, $4::jsonb) AS c (id)
