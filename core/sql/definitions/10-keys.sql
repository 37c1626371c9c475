-- Keys and their arithmetic, one home for every statement that walks a range.

-- Keys are text in one canonical form per kind, so that they sort as they should:
-- 'YYYY-MM-DD' (daily), 'YYYY-MM-DDTHH' (hourly), '' (none).
CREATE OR REPLACE FUNCTION key_shift(kind text, key text, n integer) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE kind
    WHEN 'daily' THEN to_char(left(key, 10)::date + n, 'YYYY-MM-DD')
    WHEN 'hourly' THEN to_char(left(key, 10)::date
         + make_interval(hours => nullif(substr(key, 12, 2), '')::integer + n),
         'YYYY-MM-DD"T"HH24')
    ELSE key END
$$;

-- One plain SELECT, so that the planner inlines it into the queries that plan a
-- backfill instead of calling a function once per task. Once inlined, constant
-- parts of both branches are folded, so the hour is read with nullif: a date has
-- none, and ''::integer would fail the whole query.
CREATE OR REPLACE FUNCTION key_series(kind text, first text, last text) RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(g, CASE kind WHEN 'hourly' THEN 'YYYY-MM-DD"T"HH24'
                               ELSE 'YYYY-MM-DD' END)
  FROM generate_series(
    left(first, 10)::date + CASE kind WHEN 'hourly'
      THEN make_interval(hours => nullif(substr(first, 12, 2), '')::integer)
      ELSE interval '0' END,
    left(last, 10)::date + CASE kind WHEN 'hourly'
      THEN make_interval(hours => nullif(substr(last, 12, 2), '')::integer)
      ELSE interval '0' END,
    CASE kind WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END) AS g
  WHERE kind <> 'none'
  UNION ALL
  SELECT '' WHERE kind = 'none'
$$;

-- Whether key is a key of kind in its canonical form (the one key_shift returns), for
-- the rule that every run's key is one of its task's (definitions/25-runs.sql). Never
-- an error, whatever the text: each test guards the next, and a CASE arm whose
-- condition is false is not evaluated, even when the planner folds constants.
CREATE OR REPLACE FUNCTION key_valid(kind text, key text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = @schema@, pg_temp AS $$
  SELECT CASE
    WHEN kind = 'none' THEN key = ''
    WHEN NOT (kind = 'daily' AND key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
              OR kind = 'hourly' AND key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3])$')
      THEN false
    WHEN left(key, 4) = '0000' OR substr(key, 6, 2) NOT BETWEEN '01' AND '12'
         OR substr(key, 9, 2) NOT BETWEEN '01' AND '31'
      THEN false
    WHEN to_char(make_date(left(key, 4)::integer, substr(key, 6, 2)::integer, 1)
                 + (substr(key, 9, 2)::integer - 1), 'YYYY-MM-DD') <> left(key, 10)
      THEN false
    ELSE key_shift(kind, key, 0) = key
  END
$$;

-- Where a run of key stands in the queue among runs of the same priority: older keys
-- first, days and hours on one scale (hours since 1970; a day counts as its first hour),
-- so that the queue works through a backfill, or a schedule's catch-up, in key order
-- across all its tasks. One plain SELECT, inlined into the statements that enqueue.
CREATE OR REPLACE FUNCTION key_ord(key text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE length(key)
    WHEN 10 THEN (left(key, 10)::date - date '1970-01-01')::bigint * 24
    WHEN 13 THEN (left(key, 10)::date - date '1970-01-01')::bigint * 24
                 + substr(key, 12, 2)::integer
    ELSE 0
  END
$$;
