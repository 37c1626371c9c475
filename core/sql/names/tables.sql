-- The tables a user may name, as regclass names them (schema-qualified when not on the
-- search path), for tab completion. Partitions, the catalogs and datashell's own state
-- schema ($1, as the catalog spells it) are left out; the limit keeps a database of
-- many thousand tables from holding the prompt.
SELECT c.oid::regclass::text
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1)
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 1
LIMIT 2000
