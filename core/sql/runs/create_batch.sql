-- A batch of runs ($1: backfill or force-run) and the command that made it ($2).
INSERT INTO @schema@.batches (kind, command)
VALUES ($1, $2)
RETURNING id
