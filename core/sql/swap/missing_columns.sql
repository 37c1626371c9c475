-- The columns of T ($1) that the incoming table ($2) lacks, or has with another type,
-- as "name type, ..." (NULL: none). A table made by --create-sql must keep every column
-- of T with its type, so that what reads T still works once it is T.
SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                  ORDER BY a.attnum)
FROM pg_attribute a
WHERE a.attrelid = $1::regclass
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND NOT EXISTS (SELECT 1
                  FROM pg_attribute b
                  WHERE b.attrelid = $2::regclass
                    AND b.attname = a.attname
                    AND b.atttypid = a.atttypid
                    AND NOT b.attisdropped)
