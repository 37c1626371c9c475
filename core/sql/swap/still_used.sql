-- What keeps a table ($1, as SQL writes it) from being dropped, one per line ('': none):
-- what depends on it (views, by name, foreign keys, functions: DROP ... RESTRICT would
-- refuse) and, when $2, the current tasks whose target it is (in mode v2, finish drops
-- T itself, which its tasks must no longer write). One statement for both, so that
-- finish and abandon list everything at once.
SELECT concat_ws(E'\n',
  (SELECT string_agg(DISTINCT
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
                       AND o.deptype IN ('a', 'i'))),
  (SELECT string_agg(format('task %s (graph %s) writes it', t.name, t.graph), E'\n'
                     ORDER BY t.name)
   FROM @schema@.tasks t
   WHERE $2::boolean
     AND t.removed_at IS NULL
     AND to_regclass(t.target) = to_regclass($1)))
