-- Wake idle workers at once: runs may have become ready (definitions/26-wake.sql).
-- The worker sends it on its control connection when it connects, and again after it
-- reconnects: a new session listens to nothing.
LISTEN datashell_runs
