-- why: the tree of why key $2 of task $1 (an id) is not done, as key_why walks it
-- (definitions/55-stuck.sql, the one rule): the key, then the upstream keys it waits
-- for, depth first, each with its cause, and the command that acts on it.
SELECT w.depth,
       w.task,
       w.key,
       w.state,
       w.cause,
       w.reason,
       w.detail,
       @schema@.iso_utc(w.since) AS since,
       w.action,
       w.stuck,
       w.leaf,
       w.run
FROM @schema@.key_why($1::integer, $2) w
