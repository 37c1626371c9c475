-- The end of a run ($1) of worker $2 at attempt $3: $4 is the state the worker asks
-- for, $5 the retries its error's class is worth at least, $6 the error, $7 the
-- command's output, $8 that class and $9 whether it is fatal. end_run (see
-- definitions/60-end-run.sql) queues a failure with attempts left again, with
-- exponential backoff, makes a failure after cancel was requested a cancellation, and
-- counts the failure for the task's breaker and alerts. A worker whose lease was lost
-- (and the run claimed again) changes nothing: no row.
SELECT state, retry_in
FROM @schema@.end_run($1, $2, $3, $4, $5, $6, $7, $8, $9)
