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
