-- mark: task $1's keys $2 recorded as done ($3: success or skipped) for reason $4, by
-- the command line $5; what may be marked is definitions/62-mark.sql's to say.
SELECT batch,
       run,
       key
FROM @schema@.mark_keys($1, $2::text[], $3, $4, $5)
