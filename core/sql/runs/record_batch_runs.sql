-- The number of runs ($1) batch $2 holds, once they are enqueued.
UPDATE @schema@.batches
SET runs = $1
WHERE id = $2
