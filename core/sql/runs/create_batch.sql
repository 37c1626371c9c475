-- A batch of runs ($1: backfill or force-run), the command that made it ($2) and how
-- many of its runs may run at once ($3, backfill --max-active; NULL: no cap).
INSERT INTO @schema@.batches (kind, command, max_active)
VALUES ($1, $2, $3)
RETURNING id
