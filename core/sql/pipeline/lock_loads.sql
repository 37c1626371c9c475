-- Loads take turns, so that each plans against what the one before it left: a lock
-- for the transaction, one per state schema ($1, its name).
SELECT pg_advisory_xact_lock(hashtextextended('datashell.pipeline.' || $1, 0))
