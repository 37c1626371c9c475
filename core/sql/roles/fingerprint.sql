-- What the three roles are and may do in the state schema ($1), as one md5: init takes
-- it before and after applying the grants, to say whether anything had to change.
SELECT md5(concat_ws('|',
         (SELECT string_agg(r.rolname || '<' || coalesce((SELECT string_agg(m.roleid::regrole::text, ','
                                                                 ORDER BY m.roleid::regrole::text)
                                                          FROM pg_catalog.pg_auth_members m
                                                          WHERE m.member = r.oid), ''), ';'
                            ORDER BY r.rolname)
          FROM pg_catalog.pg_roles r
          WHERE r.rolname IN ('datashell_viewer', 'datashell_operator', 'datashell_admin')),
         (SELECT nspacl::text FROM pg_catalog.pg_namespace WHERE oid = n.oid),
         (SELECT string_agg(c.relname || coalesce(c.relacl::text, ''), ';' ORDER BY c.relname)
          FROM pg_catalog.pg_class c
          WHERE c.relnamespace = n.oid),
         (SELECT string_agg(a.attrelid::text || a.attname || a.attacl::text, ';'
                            ORDER BY a.attrelid, a.attnum)
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
          WHERE c.relnamespace = n.oid AND a.attacl IS NOT NULL),
         (SELECT string_agg(p.oid::regprocedure::text || coalesce(p.proacl::text, ''), ';'
                            ORDER BY p.oid)
          FROM pg_catalog.pg_proc p
          WHERE p.pronamespace = n.oid)))
FROM (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1
      UNION ALL
      SELECT 0::oid
      LIMIT 1) n
