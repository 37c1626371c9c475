-- What keeps a table ($1, as SQL writes it) from being dropped, one per line (NULL:
-- nothing): what depends on it (views, by name, foreign keys, functions: DROP ...
-- RESTRICT would refuse). Read in the table's database, a warehouse's too; the tasks
-- that still write it are swap/still_written.sql's, in the state database.
SELECT string_agg(DISTINCT
         CASE d.classid
           WHEN 'pg_rewrite'::regclass
             THEN (SELECT format('view %s', r.ev_class::regclass)
                   FROM pg_rewrite r
                   WHERE r.oid = d.objid)
           ELSE pg_describe_object(d.classid, d.objid, d.objsubid)
         END, E'\n')
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass
  AND d.refobjid = to_regclass($1)
  AND d.deptype = 'n'
  -- A copy of a materialized view that a swap built on it and a killed shell left
  -- (swap/plan.sql) is the swap's own, dropped with it (swap/drop_table.sql).
  AND NOT EXISTS (SELECT 1
                  FROM pg_rewrite r
                  JOIN pg_class c ON c.oid = r.ev_class
                  WHERE d.classid = 'pg_rewrite'::regclass
                    AND r.oid = d.objid
                    AND c.relkind = 'm'
                    AND c.relname ~ '^ds_swap_mv_[0-9]+$')
  -- The table's own parts (policies, triggers, constraints) go with it.
  AND NOT EXISTS (SELECT 1
                  FROM pg_depend o
                  WHERE o.classid = d.classid
                    AND o.objid = d.objid
                    AND o.refclassid = 'pg_class'::regclass
                    AND o.refobjid = d.refobjid
                    AND o.deptype IN ('a', 'i'))
