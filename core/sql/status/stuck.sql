-- The stuck keys status shows: waiting runs that only a person can move (stuck_runs,
-- definitions/55-stuck.sql, the rule), of tasks $1 (ids; NULL: every task) over keys
-- $2..$3 (NULL: every key; a task without keys has ''), with each one's root cause in
-- one line, its kind (cause) and the command that acts on it (why TASK KEY tells the
-- rest). At most $4 rows, by task and key; total
-- counts them all. Over a range of days, an hourly key is in it when its day is.
SELECT s.task,
       s.key,
       s.state,
       s.cause,
       s.reason AS root_cause,
       s.action,
       count(*) OVER () AS total
FROM @schema@.stuck_runs(NULL, NULL) s
JOIN @schema@.tasks t ON t.name = s.task
WHERE ($1::integer[] IS NULL OR t.id = ANY ($1::integer[]))
  AND ($2::text IS NULL OR s.key = '' OR (s.key >= $2 AND left(s.key, length($3)) <= $3::text))
ORDER BY s.task, s.key
LIMIT $4::integer
