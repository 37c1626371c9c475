-- Whether the row written earlier ($1, its id) is there: its transaction may have been
-- rolled back since.
SELECT 1
FROM @schema@.audit_log
WHERE id = $1
