-- The statements that compare T ($1.$2) with its incoming table ($1.$3), built from
-- their columns, and what reading their results needs. $4 is the key column to count
-- rows by (--key), or NULL to compare chunks of T's primary key. One row:
--   prod_totals      T read once: its row count, its checksum (the sum of the row
--                    hashes, a multiset checksum: equal sums mean the same rows, each as
--                    often) and {0}
--   incoming_totals  the same for the incoming table, with the NULLs of T's NOT NULL
--                    columns: {0,n1,n2,...} (the leading 0 keeps the array non-empty)
--   by_key           run only when the totals differ: one row with both tables' key
--                    and row counts, the keys that differ in count or in rows, and
--                    those only the table has (the swap would lose their rows) and
--                    only the incoming one has
--   notnull_columns  the names of T's NOT NULL columns, a JSON array, in the order of
--                    the counts
--   key_found        whether $4 is a column of T (true without $4)
-- The totals are one statement per table, not a UNION ALL: for that the planner gives
-- each table a single process, where this way each is a parallel scan whose partial
-- aggregates the workers share.
--
-- A row's hash is the xor (#) of its columns' hashes, each seeded with the column's
-- position so that equal values in two columns do not cancel. A column is hashed by the
-- extended hash function of its type's default hash operator class, called directly when
-- it takes the type. The function of date, boolean and timestamptz takes a
-- binary-compatible type that SQL cannot pass them as: they are converted, exactly, to
-- one it takes. Other such types (bytea) go through hash_array_extended() of a
-- one-element array, slower; types with no hash function (json, point, money), and
-- columns the two tables give different types, are hashed as text. coalesce() gives NULL
-- its own hash, and is left out for columns NOT NULL in both tables.
--
-- The statements are generated here with %I and %s of the expressions built above, and
-- run by the caller as they are.
WITH tables AS (
  SELECT format('%I.%I', $1::text, $2::text)::regclass AS prod,
         format('%I.%I', $1::text, $3::text)::regclass AS incoming
),
-- T's columns, with the incoming table's column of the same name and the extended hash
-- function of the type (of its base type, for a domain).
cols AS (
  SELECT a.attname, a.attnum, a.attnotnull,
         a.attnotnull AND coalesce(b.attnotnull, false) AS notnull_both,
         a.atttypid IS NOT DISTINCT FROM b.atttypid AS same_type, bt.oid AS base,
         (SELECT p.amproc
          FROM pg_opclass o
          JOIN pg_am m ON m.oid = o.opcmethod AND m.amname = 'hash'
          JOIN pg_amproc p ON p.amprocfamily = o.opcfamily AND p.amprocnum = 2
            AND p.amproclefttype = o.opcintype AND p.amprocrighttype = o.opcintype
          WHERE o.opcdefault
            AND (o.opcintype = bt.oid
                 OR (o.opcintype = 'anyenum'::regtype AND bt.typtype = 'e'))) AS fn
  FROM tables
  JOIN pg_attribute a ON a.attrelid = tables.prod
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type bt ON bt.oid = CASE t.typtype WHEN 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_attribute b ON b.attrelid = tables.incoming AND b.attname = a.attname
    AND b.attnum > 0 AND NOT b.attisdropped
  WHERE a.attnum > 0
    AND NOT a.attisdropped
),
-- Each column's hash expression.
hashes AS (
  SELECT c.*,
         CASE
           WHEN NOT same_type OR fn IS NULL
             THEN format('hashtextextended(%I::text, %s)', attname, attnum)
           WHEN base = 'date'::regtype
             THEN format('timestamp_hash_extended(%I::timestamp, %s)', attname, attnum)
           WHEN base = 'timestamptz'::regtype
             THEN format('timestamp_hash_extended(%I AT TIME ZONE ''UTC'', %s)', attname,
                         attnum)
           WHEN base = 'boolean'::regtype
             THEN format('hashint4extended(%I::integer, %s)', attname, attnum)
           WHEN (SELECT proargtypes[0] FROM pg_proc WHERE oid = fn) IN (base, 'anyenum'::regtype)
             THEN format('%s(%I, %s)', fn::regproc, attname, attnum)
           ELSE format('hash_array_extended(ARRAY[%I::%s], %s)', attname, base::regtype,
                       attnum)
         END AS h
  FROM cols c
),
-- The expressions: a row's hash; its chunk of T's primary key (one of 64, or 0 with no
-- primary key); the NULL counts of T's NOT NULL columns.
pieces AS (
  SELECT string_agg(CASE WHEN notnull_both THEN h ELSE format('coalesce(%s, %s)', h, -attnum) END,
                    ' # ' ORDER BY attnum) AS hash,
         coalesce((SELECT '(hash_record_extended(ROW(' ||
                          string_agg(quote_ident(a.attname), ', ') || '), 0) & 63)'
                   FROM tables
                   JOIN pg_index x ON x.indrelid = tables.prod AND x.indisprimary
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)),
                  '0') AS chunk,
         coalesce(string_agg(format(', count(*) - count(%I)', attname), '' ORDER BY attnum)
                    FILTER (WHERE attnotnull), '') AS nulls,
         coalesce(array_to_json(array_agg(attname ORDER BY attnum)
                    FILTER (WHERE attnotnull))::text, '[]') AS notnull_columns,
         $4::text IS NULL OR bool_or(attname = $4) AS key_found
  FROM hashes
)
SELECT format('SELECT count(*), sum(%s), ARRAY[0]::bigint[] FROM %I.%I',
              hash, $1::text, $2::text) AS prod_totals,
       format('SELECT count(*), sum(%s), ARRAY[0%s]::bigint[] FROM %I.%I',
              hash, nulls, $1::text, $3::text) AS incoming_totals,
       -- Rows are counted and summed per key (the key column, or NULL) and chunk (0 with
       -- a key column), in each table; a union grouped, not a full join, so that a NULL
       -- key matches a NULL key. Of the keys in both, those whose counts differ and
       -- those whose rows do; the keys of one table only; the first five of each by
       -- name, and how many.
       format($by_key$WITH a AS (
  SELECT %1$s AS k, %2$s AS c, count(*) AS n, sum(%3$s) AS h
  FROM %4$I.%5$I GROUP BY 1, 2
), b AS (
  SELECT %1$s AS k, %2$s AS c, count(*) AS n, sum(%3$s) AS h
  FROM %4$I.%6$I GROUP BY 1, 2
), j AS (
  SELECT k, c, sum(an) AS an, sum(bn) AS bn, sum(ah) AS ah, sum(bh) AS bh
  FROM (SELECT k, c, n AS an, NULL::bigint AS bn, h AS ah, NULL::numeric AS bh FROM a
        UNION ALL SELECT k, c, NULL, n, NULL, h FROM b) u
  GROUP BY k, c
), keys AS (
  SELECT k, sum(an) AS an, sum(bn) AS bn,
         bool_or(ah IS DISTINCT FROM bh) AS differ FROM j GROUP BY k
), common AS (SELECT * FROM keys WHERE an IS NOT NULL AND bn IS NOT NULL)
SELECT (SELECT count(*) FROM keys WHERE an IS NOT NULL),
       (SELECT count(*) FROM keys WHERE bn IS NOT NULL),
       (SELECT count(*) FROM common),
       (SELECT coalesce(sum(an), 0) FROM keys), (SELECT coalesce(sum(bn), 0) FROM keys),
       (SELECT count(*) FROM common WHERE an <> bn),
       (SELECT coalesce(string_agg(format('%%s: %%s/%%s', coalesce(k::text, 'NULL'),
          an, bn), ', '), '') FROM (SELECT * FROM common WHERE an <> bn
          ORDER BY k LIMIT 5) e),
       (SELECT count(*) FROM common WHERE differ),
       (SELECT coalesce(string_agg(coalesce(k::text, 'NULL'), ', '), '')
        FROM (SELECT * FROM common WHERE differ ORDER BY k LIMIT 5) e),
       (SELECT count(*) FROM keys WHERE bn IS NULL),
       (SELECT coalesce(string_agg(coalesce(k::text, 'NULL'), ', '), '')
        FROM (SELECT * FROM keys WHERE bn IS NULL ORDER BY k LIMIT 5) e),
       (SELECT count(*) FROM keys WHERE an IS NULL),
       (SELECT coalesce(string_agg(coalesce(k::text, 'NULL'), ', '), '')
        FROM (SELECT * FROM keys WHERE an IS NULL ORDER BY k LIMIT 5) e)
$by_key$,
              coalesce(quote_ident($4::text), 'NULL'),
              CASE WHEN $4::text IS NULL THEN chunk ELSE '0' END,
              hash, $1::text, $2::text, $3::text) AS by_key,
       notnull_columns,
       key_found
FROM pieces
