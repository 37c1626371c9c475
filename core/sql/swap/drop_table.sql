-- The statements that drop the table a swap retires ($1.$2: T_old, T_backfill, or T in
-- mode v2), RESTRICT, never CASCADE: what still depends on it was refused before (see
-- swap/still_used.sql), and whatever appeared since makes the drop fail, not vanish.
-- IF EXISTS: a finish run again after a killed shell finds it gone. First, the copies
-- of materialized views that a swap built on it (ds_swap_mv_OID, see swap/plan.sql) and a
-- killed shell left behind: they are the swap's own. Generated here with %I, run by the
-- caller in order (ds_db_exec_rows).
SELECT stmt
FROM (
  SELECT 1 AS ord, format('DROP MATERIALIZED VIEW %s.%I RESTRICT', c.relnamespace::regnamespace,
                          c.relname) AS stmt
  FROM pg_class c
  WHERE c.relkind = 'm' AND c.relname ~ '^ds_swap_mv_[0-9]+$'
    AND c.oid IN (SELECT r.ev_class
                  FROM pg_depend d
                  JOIN pg_rewrite r ON r.oid = d.objid
                  WHERE d.classid = 'pg_rewrite'::regclass
                    AND d.refclassid = 'pg_class'::regclass
                    AND d.refobjid = to_regclass(format('%I.%I', $1::text, $2::text)))
  UNION ALL
  SELECT 2, format('DROP TABLE IF EXISTS %I.%I RESTRICT', $1::text, $2::text)
) s
ORDER BY ord, stmt
