-- The settings of the transactions that read the plan and run its statements, for the
-- rest of the transaction only:
--   search_path   empty, so that every name the plan prints is schema-qualified (see
--                 plan.sql); the one it replaces is returned first, for a caller that
--                 must put it back (swap/restore_search_path.sql)
--   lock_timeout  $1 milliseconds, how long each lock may be waited for (0: as long as
--                 it takes); NULL keeps the session's
--   statement_timeout  $2 milliseconds, a bound on the locked exchange; NULL keeps the
--                 session's
-- set_config() rather than SET LOCAL, so that the values are parameters. The old
-- search_path is read in a CTE of its own, materialized before anything is set.
WITH before AS MATERIALIZED (
  SELECT current_setting('search_path') AS search_path
)
SELECT before.search_path,
       set_config('search_path', '', true),
       set_config('lock_timeout', coalesce($1::text, current_setting('lock_timeout')), true),
       set_config('statement_timeout', coalesce($2::text, current_setting('statement_timeout')),
                  true)
FROM before
