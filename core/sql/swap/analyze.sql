-- The statement that refreshes the statistics of the incoming table $1.$2 before the
-- exchange, outside the lock, so that queries on it are planned well from the first.
-- Generated here with %I, run by the caller (ds_db_exec_rows).
SELECT format('ANALYZE %I.%I', $1::text, $2::text)
