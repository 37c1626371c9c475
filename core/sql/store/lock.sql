-- Everyone upgrading this schema ($1) takes the same transaction-scoped lock first, so a
-- second init waits for the first and then finds nothing left to do.
SELECT pg_advisory_xact_lock(hashtextextended('datashell.init.' || $1, 0))
