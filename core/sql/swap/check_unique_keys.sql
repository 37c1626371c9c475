-- The unique keys of T ($1) that no unique index of the incoming table ($2) enforces,
-- as their index definitions from USING on (NULL: none). Compared in the catalog: a
-- unique index on the incoming table enforces its key, so its rows need no scan.
SELECT string_agg(substr(d.def, strpos(d.def, ' USING ') + 7), ', ')
FROM pg_index x
CROSS JOIN LATERAL (SELECT pg_get_indexdef(x.indexrelid) AS def) d
WHERE x.indrelid = $1::regclass
  AND x.indisunique
  AND NOT EXISTS (SELECT 1
                  FROM pg_index y
                  WHERE y.indrelid = $2::regclass
                    AND y.indisunique
                    AND substr(pg_get_indexdef(y.indexrelid),
                               strpos(pg_get_indexdef(y.indexrelid), ' USING '))
                        = substr(d.def, strpos(d.def, ' USING ')))
