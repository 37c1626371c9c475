-- The statements that put swap $1's write log (the statement trigger swap_log_write() of
-- definitions/80-swaps.sql) on T and on the table beside it (T_backfill, or T_old once
-- swapped) where it is missing: start puts it there, and check again for a swap an
-- older datashell started. $2 is the state schema's name, as it was given. ENABLE
-- ALWAYS: writes applied with session_replication_role = replica (logical replication,
-- a restore) are noted too. Generated here with %I and %L, run by the caller.
SELECT format('CREATE TRIGGER %1$I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %2$I.%3$I '
              'FOR EACH STATEMENT EXECUTE FUNCTION %4$I.swap_log_write(%5$L); '
              'ALTER TABLE %2$I.%3$I ENABLE ALWAYS TRIGGER %1$I',
              @schema@.swap_write_trigger(s.id), s.table_schema, n.name, $2::text, s.id)
FROM @schema@.swaps s
CROSS JOIN LATERAL (VALUES (s.table_name),
                           (CASE s.state WHEN 'swapped' THEN s.old_name ELSE s.shadow_name END)
                   ) n(name)
WHERE s.id = $1
  AND to_regclass(format('%I.%I', s.table_schema, n.name)) IS NOT NULL
  AND NOT EXISTS (SELECT 1
                  FROM pg_trigger g
                  WHERE g.tgrelid = to_regclass(format('%I.%I', s.table_schema, n.name))
                    AND g.tgname = @schema@.swap_write_trigger(s.id))
