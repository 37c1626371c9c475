-- What kind of relation $1 (a name as SQL writes it) is, and whether it is a partition
-- (of which table): only a plain table that is not a partition can be swapped by
-- renaming it. The last column names the kinds that are no table at all, for the
-- message.
SELECT c.relkind,
       c.relispartition,
       i.inhparent::regclass::text,
       CASE c.relkind
         WHEN 'v' THEN 'a view'
         WHEN 'm' THEN 'a materialized view'
         WHEN 'f' THEN 'a foreign table'
         WHEN 'S' THEN 'a sequence'
         WHEN 'c' THEN 'a composite type'
         ELSE 'an index'
       END
FROM pg_class c
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
WHERE c.oid = $1::regclass
