-- prune: one slice of at most $4 runs that ended before $1, read after ($2, $3) in order
-- of when they ended (definitions/85-prune.sql says which stay). Each slice is its own
-- transaction, so that a prune of a year holds no lock for long; last_at and last_id are
-- where the next slice starts, NULL once nothing is left to read.
SELECT runs, attempts, batches, last_at, last_id
FROM @schema@.prune_runs($1::timestamptz, $2::timestamptz, $3::bigint, $4::integer)
