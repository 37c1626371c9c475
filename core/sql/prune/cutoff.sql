-- prune --before: the cutoff, from a duration before now ($1, seconds) or a date ($2,
-- midnight UTC, as keys are days in UTC unless a task says otherwise), by the server's
-- clock, which is the one finished_at was written by. at is passed back to each slice
-- as it is; shown is for people; future refuses a cutoff after now.
SELECT c.at,
       @schema@.iso_utc(c.at) AS shown,
       c.at > now() AS future
FROM (SELECT CASE WHEN $1::bigint IS NOT NULL THEN now() - make_interval(secs => $1::bigint)
                  ELSE $2::date::timestamp AT TIME ZONE 'UTC' END AS at) c
