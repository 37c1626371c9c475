-- The rows of the last $1 seconds, of one database user ($2) or all (NULL), of one
-- command ($3, the first word of the line) or all (NULL), oldest first.
--
-- touched leaves out what is empty (a null batch, zero runs) and reads one level into
-- nested counts ("tasks.added 6"), so that the table says what happened in a few words;
-- detail keeps everything for scripts.
SELECT @schema@.iso_utc(a.at) AS at,
       a.db_user AS user,
       host(a.client_addr) AS client,
       a.command,
       a.outcome,
       (SELECT string_agg(k || ' ' || (v #>> '{}'), ', ' ORDER BY k)
        FROM (SELECT d.key, d.value
              FROM jsonb_each(o.detail) d
              UNION ALL
              SELECT d.key || '.' || e.key, e.value
              FROM jsonb_each(o.detail) d,
                   jsonb_each(CASE jsonb_typeof(d.value) WHEN 'object' THEN d.value END) e
             ) AS x (k, v)
        WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean')
          AND v NOT IN ('0', 'false', '""')) AS touched,
       a.error,
       coalesce(a.detail, '{}') AS detail
FROM @schema@.audit_log a,
     LATERAL (SELECT CASE jsonb_typeof(a.detail) WHEN 'object' THEN a.detail END) o (detail)
WHERE a.at >= now() - make_interval(secs => $1::bigint)
  AND ($2::text IS NULL OR a.db_user = $2)
  AND ($3::text IS NULL OR substring(a.command FROM '^\s*(\S+)') = $3)
ORDER BY a.at, a.id
