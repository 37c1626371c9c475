-- The current tasks whose target is the table $1 (as SQL writes it), one per line (NULL:
-- none): in mode v2, finish drops T itself, which its tasks must no longer write. Only
-- for a table of the state database, where the targets are resolved.
SELECT string_agg(format('task %s (graph %s) writes it', t.name, t.graph), E'\n'
                  ORDER BY t.name)
FROM @schema@.tasks t
WHERE t.removed_at IS NULL
  AND to_regclass(t.target) = to_regclass($1)
