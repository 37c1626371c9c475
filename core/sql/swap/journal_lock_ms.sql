-- How long the exchange of swap $1 held its lock ($2 ms, one decimal), for status and
-- the benchmark.
UPDATE @schema@.swaps
SET timings = timings || jsonb_build_object('lock_ms', $2::numeric)
WHERE id = $1
