-- The plan of a swap: what PostgreSQL binds to the production table ($1, its oid) and
-- the statements that move each thing to the incoming table ($2, its oid). One row per
-- thing: (phase, ord, kind, name, action, stmt), in ord order.
--
-- It is the single source of truth for the swap: check shows its rows as the inventory,
-- start (mode v2) and swap run its 'prepare' rows before the lock, the exchange runs
-- its 'swap' rows inside the locked transaction and keeps its 'after' rows in the
-- journal (swaps.pending) to run once it has committed; 'info' rows say what is left
-- as it is, and have no statement.
--
-- Run it with an empty search_path: every name it prints (::regclass, view, function
-- and constraint definitions) is then schema-qualified and means the same thing when
-- the statements run, after the renames, where a definition that says public.orders
-- reads the incoming table. The statements are generated here, with format() and %I,
-- and run by core/swap_*.c as they are.
--
-- What the C side relies on (core/swap_tx.c, core/swap_start.c):
--   prepare  10-19  before the lock, on the incoming table only; 17 (a sequence of its
--                   own) is left out in mode v2, where both tables share T's sequence
--   build    19     before the lock, after prepare, each in a transaction of its own:
--                   the copies of materialized views, whose queries may take long (not
--                   in mode v2, which swaps nothing)
--   swap     < 20   inside the lock, before the renames: they name both tables
--   swap     >= 20  inside the lock, after the renames: they name T and mean the
--                   incoming table
--   after    40     after the commit (VALIDATE CONSTRAINT, idempotent)
--
-- Reading the definitions (pg_get_expr and friends) takes ACCESS SHARE on the tables;
-- the caller bounds that wait with lock_timeout.

WITH prod AS (
  SELECT c.oid AS rel, c.*
  FROM pg_class c
  WHERE c.oid = $1::oid
),
incoming AS (
  SELECT c.oid AS rel, c.*
  FROM pg_class c
  WHERE c.oid = $2::oid
),
-- The indexes of both tables, matched on what they index (the definition from USING
-- on), whatever their names; n tells identical ones apart.
idx AS (
  SELECT x.indrelid AS rel, x.indexrelid AS idx, c.relname, x.indisunique,
         substr(d.def, strpos(d.def, ' USING ')) AS body,
         row_number() OVER (PARTITION BY x.indrelid, x.indisunique,
           substr(d.def, strpos(d.def, ' USING ')) ORDER BY x.indexrelid) AS n
  FROM pg_index x
  JOIN pg_class c ON c.oid = x.indexrelid
  CROSS JOIN LATERAL (SELECT pg_get_indexdef(x.indexrelid) AS def) d
  WHERE x.indrelid IN ($1::oid, $2::oid)
),
-- Each index of T with its twin on the incoming table.
idx_pairs AS (
  SELECT a.idx AS pidx, a.relname AS pname, b.idx AS iidx, b.relname AS iname
  FROM idx a
  JOIN idx b ON b.rel = $2::oid AND b.indisunique = a.indisunique
    AND b.body = a.body AND b.n = a.n
  WHERE a.rel = $1::oid
),
-- Extended statistics of both tables, matched, as indexes are, on what they cover.
stx AS (
  SELECT s.stxrelid AS rel, s.oid AS stat, s.stxname, s.stxnamespace, s.stxstattarget,
         format('%s.%I', s.stxnamespace::regnamespace, s.stxname) AS qname,
         obj_description(s.oid, 'pg_statistic_ext') AS note, b.body,
         row_number() OVER (PARTITION BY s.stxrelid, b.body ORDER BY s.oid) AS n
  FROM pg_statistic_ext s
  CROSS JOIN LATERAL (SELECT s.stxkind::text || ' ON ' ||
    pg_get_statisticsobjdef_columns(s.oid) AS body) b
  WHERE s.stxrelid IN ($1::oid, $2::oid)
),
-- Each statistics object of T with its twin on the incoming table.
stx_pairs AS (
  SELECT a.*, b.stat AS istat, b.stxname AS iname, b.stxnamespace AS insp,
         b.stxstattarget AS itarget, b.qname AS iqname, b.note AS inote
  FROM stx a
  JOIN stx b ON b.rel = $2::oid AND b.body = a.body AND b.n = a.n
  WHERE a.rel = $1::oid
),
-- Sequences owned by a column of either table: serial (auto) or identity (internal).
owned AS (
  SELECT d.refobjid AS rel, a.attname, d.objid AS seq
  FROM pg_depend d
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.deptype IN ('a', 'i') AND d.refobjid IN ($1::oid, $2::oid)
),
-- The sequence of a column of T with that of the same column of the incoming table.
seq_pairs AS (
  SELECT a.attname, a.seq AS pseq, b.seq AS iseq
  FROM owned a
  JOIN owned b ON b.rel = $2::oid AND b.attname = a.attname
  WHERE a.rel = $1::oid
),
-- Columns of the incoming table drawing from a sequence it does not own (LIKE shares
-- T's), with the name a sequence of its own would take.
borrowed AS (
  SELECT a.attname, s.oid AS seq, q.seqtypid,
         left(incoming.relname || '_' || a.attname, 59) || '_seq' AS newname
  FROM incoming
  JOIN pg_attrdef ad ON ad.adrelid = incoming.rel
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
    AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
  JOIN pg_sequence q ON q.seqrelid = s.oid
  WHERE NOT EXISTS (SELECT 1 FROM owned o WHERE o.rel = $2::oid AND o.seq = s.oid)
),
-- Views and materialized views whose rules read T.
readers AS (
  SELECT DISTINCT c.oid AS obj, c.relkind, c.reloptions, c.relacl, c.relowner, c.relname,
         c.relnamespace, c.relam, c.reltablespace, c.relispopulated
  FROM pg_depend d
  JOIN pg_rewrite r ON r.oid = d.objid
  JOIN pg_class c ON c.oid = r.ev_class
  WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.refobjid = $1::oid AND r.ev_class <> $1::oid
),
-- Each materialized view reading T with the copy of it the swap builds before the lock
-- (ds_swap_mv_OID, in its schema) and its query made to read the incoming table instead.
-- With the search_path empty, T is written in a FROM list as schema.name and its columns
-- as name.column (its alias when it has one): both are replaced by the incoming table's,
-- so that, once the renames make the incoming table T, the definition reads as it did.
-- The copy's build checks that it no longer reads T.
mv AS (
  SELECT r.*, 'ds_swap_mv_' || r.obj AS copyname,
         format('%s.%I', r.relnamespace::regnamespace, 'ds_swap_mv_' || r.obj) AS copy,
         regexp_replace(regexp_replace(rtrim(pg_get_viewdef(r.obj), '; '),
             '(^|[^\w$."''])' || n.qualified || '(?![\w$])', '\1' || n.to_qualified, 'g'),
           '(^|[^\w$."''])' || n.name || '\.', '\1' || n.to_name || '.', 'g') AS def
  FROM readers r
  CROSS JOIN LATERAL (SELECT
      regexp_replace(prod.rel::regclass::text, '([.*+?^${}()|\[\]\\])', '\\\1', 'g') AS qualified,
      regexp_replace(quote_ident(prod.relname), '([.*+?^${}()|\[\]\\])', '\\\1', 'g') AS name,
      replace(incoming.rel::regclass::text, '\', '\\') AS to_qualified,
      replace(quote_ident(incoming.relname), '\', '\\') AS to_name
    FROM prod, incoming) n
  WHERE r.relkind = 'm'
),
-- The privileges on T of everyone but its owner; who is the grantee as GRANT ... TO writes it.
grantee AS (
  SELECT g.*, CASE g.grantee WHEN 0 THEN 'PUBLIC'
              ELSE quote_ident(pg_get_userbyid(g.grantee)) END AS who
  FROM prod, aclexplode(prod.relacl) g
  WHERE g.grantee <> prod.relowner
)
SELECT phase, ord, kind, name, action, stmt
FROM (

-- Before the lock (prepare): make the incoming table what T is, except for its rows.

-- 10: T's owner.
SELECT 'prepare' AS phase, 10 AS ord, 'owner' AS kind,
       pg_get_userbyid(prod.relowner)::text AS name, 'given to the new table' AS action,
       format('ALTER TABLE %s OWNER TO %I', incoming.rel::regclass,
              pg_get_userbyid(prod.relowner)) AS stmt
FROM prod, incoming
WHERE prod.relowner <> incoming.relowner
UNION ALL
-- 11: the grants on T the incoming table lacks.
SELECT 'prepare', 11, 'grant', g.privilege_type || ' to ' || g.who,
       'copied to the new table',
       format('GRANT %s ON %s TO %s%s', g.privilege_type, incoming.rel::regclass, g.who,
              CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
FROM grantee g, incoming
WHERE NOT EXISTS (SELECT 1 FROM aclexplode(incoming.relacl) h WHERE h.grantee = g.grantee
                  AND h.privilege_type = g.privilege_type
                  AND h.is_grantable = g.is_grantable)
UNION ALL
-- 12: the grants on T's columns, for the columns the incoming table has (by name).
SELECT 'prepare', 12, 'grant', g.privilege_type || ' (' || a.attname || ') to ' ||
       CASE g.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text END,
       'copied to the new table',
       format('GRANT %s (%I) ON %s TO %s', g.privilege_type, a.attname, incoming.rel::regclass,
              CASE g.grantee WHEN 0 THEN 'PUBLIC'
              ELSE quote_ident(pg_get_userbyid(g.grantee)) END)
FROM prod, incoming, pg_attribute a, aclexplode(a.attacl) g
WHERE a.attrelid = prod.rel AND a.attnum > 0 AND a.attacl IS NOT NULL
  AND EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = incoming.rel
              AND b.attname = a.attname)
UNION ALL
-- 13: row level security, enabled and forced as on T.
SELECT 'prepare', 13, 'row level security',
       CASE WHEN prod.relrowsecurity THEN 'enabled' ELSE 'disabled' END ||
       CASE WHEN prod.relforcerowsecurity THEN ', forced' ELSE '' END,
       'set on the new table',
       format('ALTER TABLE %s %s ROW LEVEL SECURITY; ALTER TABLE %s %s ROW LEVEL SECURITY',
              incoming.rel::regclass,
              CASE WHEN prod.relrowsecurity THEN 'ENABLE' ELSE 'DISABLE' END,
              incoming.rel::regclass,
              CASE WHEN prod.relforcerowsecurity THEN 'FORCE' ELSE 'NO FORCE' END)
FROM prod, incoming
WHERE (prod.relrowsecurity, prod.relforcerowsecurity)
      IS DISTINCT FROM (incoming.relrowsecurity, incoming.relforcerowsecurity)
UNION ALL
-- 13: the replica identity, what logical replication sends of an update or delete (a
-- publication's row filter needs it to allow them). One using an index needs the
-- incoming table's twin of that index; without one it is only reported.
SELECT CASE WHEN prod.relreplident = 'i' AND x.iname IS NULL THEN 'info' ELSE 'prepare' END,
       13, 'replica identity',
       CASE prod.relreplident WHEN 'd' THEN 'default' WHEN 'n' THEN 'nothing'
         WHEN 'f' THEN 'full' ELSE 'using index ' || r.indexrelid::regclass::text END,
       CASE WHEN prod.relreplident = 'i' AND x.iname IS NULL
         THEN 'the new table has no matching index: set it there by hand'
         ELSE 'set on the new table' END,
       CASE WHEN prod.relreplident <> 'i' OR x.iname IS NOT NULL THEN
         format('ALTER TABLE %s REPLICA IDENTITY %s', incoming.rel::regclass,
                CASE prod.relreplident WHEN 'd' THEN 'DEFAULT' WHEN 'n' THEN 'NOTHING'
                  WHEN 'f' THEN 'FULL' ELSE 'USING INDEX ' || quote_ident(x.iname) END) END
FROM prod, incoming
LEFT JOIN (pg_index r LEFT JOIN idx_pairs x ON x.pidx = r.indexrelid)
  ON r.indrelid = $1::oid AND r.indisreplident
WHERE prod.relreplident <> incoming.relreplident
   OR (prod.relreplident = 'i' AND NOT EXISTS (
         SELECT 1 FROM pg_index q WHERE q.indexrelid = x.iidx AND q.indisreplident))
UNION ALL
-- 14: T's policies the incoming table lacks (by name).
SELECT 'prepare', 14, 'policy', pol.polname::text, 'copied to the new table',
       format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', pol.polname,
              incoming.rel::regclass,
              CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              (SELECT string_agg(CASE r WHEN 0 THEN 'PUBLIC'
                      ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
               FROM unnest(pol.polroles) r),
              ' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')',
              ' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')')
FROM prod, incoming, pg_policy pol
WHERE pol.polrelid = prod.rel
  AND NOT EXISTS (SELECT 1 FROM pg_policy q
                  WHERE q.polrelid = incoming.rel AND q.polname = pol.polname)
UNION ALL
-- 15: T's triggers the incoming table lacks (by name), disabled if disabled on T. A
-- trigger's definition names its table once, after the events: that name is replaced
-- by the incoming table's. Not datashell's write log (swap_log_write()), which each
-- table of a swap has of its own (swap/write_log_install.sql).
SELECT 'prepare', 15, 'trigger', t.tgname::text, 'copied to the new table',
       overlay(d.def PLACING ' ON ' || incoming.rel::regclass::text || ' '
               FROM strpos(d.def, ' ON ' || prod.rel::regclass::text || ' ')
               FOR length(' ON ' || prod.rel::regclass::text || ' ')) ||
       CASE t.tgenabled WHEN 'D' THEN format('; ALTER TABLE %s DISABLE TRIGGER %I',
         incoming.rel::regclass, t.tgname) ELSE '' END
FROM prod, incoming, pg_trigger t
CROSS JOIN LATERAL (SELECT pg_get_triggerdef(t.oid) AS def) d
WHERE t.tgrelid = prod.rel AND NOT t.tgisinternal
  AND t.tgfoid NOT IN (SELECT p.oid FROM pg_proc p
                       WHERE p.proname = 'swap_log_write'
                         AND p.pronamespace = (SELECT typnamespace FROM pg_type
                                               WHERE oid = pg_typeof(NULL::@schema@.swaps)))
  AND NOT EXISTS (SELECT 1 FROM pg_trigger u
                  WHERE u.tgrelid = incoming.rel AND u.tgname = t.tgname)
UNION ALL
-- 16: the comment on T, and those on its columns (by name).
SELECT 'prepare', 16, 'comment', 'on the table', 'copied to the new table',
       format('COMMENT ON TABLE %s IS %L', incoming.rel::regclass,
              obj_description(prod.rel, 'pg_class'))
FROM prod, incoming
WHERE obj_description(prod.rel, 'pg_class')
      IS DISTINCT FROM obj_description(incoming.rel, 'pg_class')
UNION ALL
SELECT 'prepare', 16, 'comment', 'on column ' || a.attname, 'copied to the new table',
       format('COMMENT ON COLUMN %s.%I IS %L', incoming.rel::regclass, a.attname,
              col_description(prod.rel, a.attnum))
FROM prod, incoming, pg_attribute a
JOIN pg_attribute b ON b.attname = a.attname
WHERE a.attrelid = prod.rel AND b.attrelid = incoming.rel AND a.attnum > 0 AND b.attnum > 0
  AND col_description(prod.rel, a.attnum) IS DISTINCT FROM col_description(incoming.rel, b.attnum)
UNION ALL
-- 17: a sequence of its own for each column that draws from T's, started where T's is,
-- so that dropping T_old later takes nothing the new table needs, with the grants of T's
-- (without them, a role that inserts into T could not draw the new table's ids).
SELECT 'prepare', 17, 'sequence', b.seq::regclass::text,
       'the new table gets a sequence of its own (' || b.newname || '), set past this one',
       format('CREATE SEQUENCE %s.%I AS %s OWNED BY %s.%I; '
              'ALTER TABLE %s ALTER COLUMN %I SET DEFAULT nextval(%L::regclass); '
              'SELECT setval(%L::regclass, last_value, is_called) FROM %s',
              incoming.relnamespace::regnamespace, b.newname, format_type(b.seqtypid, NULL),
              incoming.rel::regclass, b.attname, incoming.rel::regclass, b.attname,
              format('%s.%I', incoming.relnamespace::regnamespace, b.newname),
              format('%s.%I', incoming.relnamespace::regnamespace, b.newname), b.seq::regclass) ||
       coalesce((SELECT string_agg(format('; GRANT %s ON SEQUENCE %s.%I TO %s%s',
                   g.privilege_type, incoming.relnamespace::regnamespace, b.newname,
                   CASE g.grantee WHEN 0 THEN 'PUBLIC'
                   ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), ''
                   ORDER BY g.grantee, g.privilege_type)
                 FROM pg_class sc, aclexplode(sc.relacl) g
                 WHERE sc.oid = b.seq AND g.grantee <> sc.relowner), '')
FROM incoming, borrowed b
UNION ALL
-- 18: T's foreign keys the incoming table lacks (by name), added NOT VALID, then
-- validated if T's is: the scan that validates it blocks no writer of either table.
-- A key referencing T itself references the incoming table instead: the
-- definition reads FOREIGN KEY (columns) REFERENCES table(...), so the table's name is
-- replaced at the place the column list ends, whatever the columns are named.
SELECT 'prepare', 18, 'foreign key', c.conname::text,
       CASE WHEN c.confrelid = prod.rel THEN 'copied to the new table, referencing itself, '
         ELSE 'copied to the new table ' END || 'and validated before the swap',
       format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', incoming.rel::regclass, c.conname,
              f.def, CASE WHEN c.convalidated THEN ' NOT VALID' END) ||
       CASE WHEN c.convalidated THEN format('; ALTER TABLE %s VALIDATE CONSTRAINT %I',
         incoming.rel::regclass, c.conname) ELSE '' END
FROM prod, incoming, pg_constraint c
CROSS JOIN LATERAL (SELECT pg_get_constraintdef(c.oid) AS def, 'FOREIGN KEY (' ||
    (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.n)
     FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) ||
    ') REFERENCES ' AS head) d
CROSS JOIN LATERAL (SELECT CASE WHEN c.confrelid <> prod.rel THEN d.def
    ELSE d.head || incoming.rel::regclass::text ||
         substr(d.def, length(d.head || prod.rel::regclass::text) + 1) END AS def) f
WHERE c.conrelid = prod.rel AND c.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint e WHERE e.conrelid = incoming.rel
                  AND e.conname = c.conname)
UNION ALL
-- 19: statistics the incoming table lacks (made by --create-sql): created in the same
-- schema as T's, under the incoming table's name, with T's target and comment.
SELECT 'prepare', 19, 'statistics', s.qname,
       'copied to the new table as ' ||
       quote_ident(left(incoming.relname || '_' || s.stxname, 63)),
       format('CREATE STATISTICS %s.%I%s ON %s FROM %s', s.stxnamespace::regnamespace,
              left(incoming.relname || '_' || s.stxname, 63),
              (SELECT ' (' || string_agg(CASE k WHEN 'd' THEN 'ndistinct'
                 WHEN 'f' THEN 'dependencies' ELSE 'mcv' END, ', ') || ')'
               FROM pg_statistic_ext x, unnest(x.stxkind) k
               WHERE x.oid = s.stat AND k <> 'e'),
              pg_get_statisticsobjdef_columns(s.stat), incoming.rel::regclass) ||
       CASE WHEN s.stxstattarget >= 0 THEN format('; ALTER STATISTICS %s.%I SET STATISTICS %s',
         s.stxnamespace::regnamespace, left(incoming.relname || '_' || s.stxname, 63),
         s.stxstattarget) ELSE '' END ||
       CASE WHEN s.note IS NOT NULL THEN format('; COMMENT ON STATISTICS %s.%I IS %L',
         s.stxnamespace::regnamespace, left(incoming.relname || '_' || s.stxname, 63), s.note)
         ELSE '' END
FROM incoming, stx s
WHERE s.rel = $1::oid AND s.stat NOT IN (SELECT stat FROM stx_pairs)
UNION ALL
-- 19: those it has (LIKE copies them, under other names, in its own schema, without
-- target or comment) move to the schema of T's and take their target and comment.
SELECT 'prepare', 19, 'statistics', s.qname,
       'its schema, statistics target and comment set on the new table''s ' ||
       quote_ident(s.iname),
       CASE WHEN s.insp <> s.stxnamespace THEN format('ALTER STATISTICS %s SET SCHEMA %s; ',
         s.iqname, s.stxnamespace::regnamespace) ELSE '' END ||
       format('ALTER STATISTICS %s.%I SET STATISTICS %s; COMMENT ON STATISTICS %s.%I IS %L',
              s.stxnamespace::regnamespace, s.iname, s.stxstattarget,
              s.stxnamespace::regnamespace, s.iname, s.note)
FROM stx_pairs s
WHERE (s.insp, s.itarget, s.inote) IS DISTINCT FROM (s.stxnamespace, s.stxstattarget, s.note)
UNION ALL

-- Before the lock, after prepare (build).

-- 19: a copy of each materialized view reading T, reading the incoming table instead,
-- with its access method, options, tablespace, owner, indexes (under names of their own,
-- ds_swap_mvi_OID), grants and comments, populated if it is, then analyzed (autovacuum would otherwise analyze
-- it soon, and hold the rename off); one left by a killed shell is dropped first. Its
-- query runs here, so the lock is held for renames only.
SELECT 'build', 19, 'materialized view', m.obj::regclass::text,
       'copied before the lock as ' || quote_ident(m.copyname) ||
       ', reading the new table: its query runs then, not under the lock',
       format('DROP MATERIALIZED VIEW IF EXISTS %s; CREATE MATERIALIZED VIEW %s USING %I%s%s '
              'AS %s WITH %sDATA; ALTER MATERIALIZED VIEW %s OWNER TO %I',
              m.copy, m.copy, am.amname,
              ' WITH (' || array_to_string(m.reloptions, ', ') || ')',
              (SELECT ' TABLESPACE ' || quote_ident(t.spcname)
               FROM pg_tablespace t WHERE t.oid = m.reltablespace),
              m.def, CASE WHEN m.relispopulated THEN '' ELSE 'NO ' END, m.copy,
              pg_get_userbyid(m.relowner)) ||
       format('; DO $ds$BEGIN IF EXISTS (SELECT FROM pg_depend d JOIN pg_rewrite r '
              'ON r.oid = d.objid WHERE d.classid = ''pg_rewrite''::regclass '
              'AND d.refclassid = ''pg_class''::regclass AND r.ev_class = %L::regclass '
              'AND d.refobjid = %s) THEN RAISE EXCEPTION USING MESSAGE = %L, HINT = %L; END IF; '
              'END$ds$',
              m.copy, prod.rel,
              format('the query of materialized view %s could not be pointed at %s',
                     m.obj::regclass, incoming.rel::regclass),
              'drop it before the swap and create it again after') ||
       coalesce((SELECT string_agg(format('; CREATE %sINDEX %I ON %s%s',
                   CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END,
                   'ds_swap_mvi_' || x.indexrelid, m.copy,
                   substr(d.def, strpos(d.def, ' USING '))) ||
                   coalesce((SELECT format('; ALTER INDEX %s.%I SET TABLESPACE %I',
                               m.relnamespace::regnamespace, 'ds_swap_mvi_' || x.indexrelid,
                               t.spcname)
                             FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace
                             WHERE c.oid = x.indexrelid), '') ||
                   coalesce(format('; COMMENT ON INDEX %s.%I IS %L', m.relnamespace::regnamespace,
                                   'ds_swap_mvi_' || x.indexrelid,
                                   obj_description(x.indexrelid, 'pg_class')), ''),
                   '' ORDER BY x.indexrelid)
                 FROM pg_index x
                 CROSS JOIN LATERAL (SELECT pg_get_indexdef(x.indexrelid) AS def) d
                 WHERE x.indrelid = m.obj), '') ||
       coalesce((SELECT string_agg(format('; GRANT %s ON %s TO %s%s', g.privilege_type,
                   m.copy, CASE g.grantee WHEN 0 THEN 'PUBLIC'
                   ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '')
                 FROM aclexplode(m.relacl) g WHERE g.grantee <> m.relowner), '') ||
       coalesce(format('; COMMENT ON MATERIALIZED VIEW %s IS %L', m.copy,
                       obj_description(m.obj, 'pg_class')), '') ||
       coalesce((SELECT string_agg(format('; COMMENT ON COLUMN %s.%I IS %L', m.copy, a.attname,
                   col_description(m.obj, a.attnum)), '' ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = m.obj AND a.attnum > 0
                   AND col_description(m.obj, a.attnum) IS NOT NULL), '') ||
       CASE WHEN m.relispopulated THEN format('; ANALYZE %s', m.copy) ELSE '' END
FROM prod, incoming, mv m
JOIN pg_am am ON am.oid = m.relam
UNION ALL

-- Inside the lock (swap). Rows before ord 20 name both tables and run before the
-- renames; the others name T and mean the incoming table, so they run after them.

-- 5: publications T is in: the incoming table joins each with T's column list and row
-- filter (they name columns, which the incoming table has by name), and T leaves.
SELECT 'swap', 5, 'publication', pb.pubname::text,
       'the new table joins it' || coalesce(' with columns' || m.cols, '') ||
       coalesce(' where ' || m.filter, '') || ', and the old one leaves',
       format('ALTER PUBLICATION %I ADD TABLE %s%s%s; ALTER PUBLICATION %I DROP TABLE %s',
              pb.pubname, incoming.rel::regclass, m.cols, ' WHERE (' || m.filter || ')',
              pb.pubname, prod.rel::regclass)
FROM prod, incoming, pg_publication_rel pr
JOIN pg_publication pb ON pb.oid = pr.prpubid
CROSS JOIN LATERAL (SELECT pg_get_expr(pr.prqual, pr.prrelid) AS filter,
    (SELECT ' (' || string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) || ')'
     FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY k(attnum, n)
     JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum) AS cols) m
WHERE pr.prrelid = prod.rel
UNION ALL
-- 20: index names: each of T's goes to its twin, through a name of its own
-- (ds_swap_OID) while both exist. An index with no twin stays with T_old.
SELECT 'swap', 20, 'index', x.pname::text, 'its name goes to the new table''s index ' ||
       quote_ident(x.iname) || ', and that name to it',
       format('ALTER INDEX %s RENAME TO %I; ALTER INDEX %s RENAME TO %I; '
              'ALTER INDEX %s.%I RENAME TO %I', x.pidx::regclass, 'ds_swap_' || x.pidx,
              x.iidx::regclass, x.pname, prod.relnamespace::regnamespace,
              'ds_swap_' || x.pidx, x.iname)
FROM prod, idx_pairs x
UNION ALL
SELECT 'info', 20, 'index', a.relname::text,
       'no matching index on the new table: stays with the old one', NULL
FROM idx a
WHERE a.rel = $1::oid AND a.idx NOT IN (SELECT pidx FROM idx_pairs)
UNION ALL
-- 21: sequence names, as index names, once the incoming table's has caught up with
-- T's (rows written to T since prepare drew from T's).
SELECT 'swap', 21, 'sequence', x.pseq::regclass::text,
       'the new table''s sequence catches up with it and takes its name',
       format('SELECT setval(%L::regclass, greatest(a.last_value, b.last_value), '
              'a.is_called OR b.is_called) FROM %s a, %s b; ',
              x.iseq::regclass, x.pseq::regclass, x.iseq::regclass) ||
       format('ALTER SEQUENCE %s RENAME TO %I; ALTER SEQUENCE %s RENAME TO %I; '
              'ALTER SEQUENCE %s.%I RENAME TO %I', x.pseq::regclass, 'ds_swap_' || x.pseq,
              x.iseq::regclass, ps.relname, ps.relnamespace::regnamespace,
              'ds_swap_' || x.pseq, qs.relname)
FROM seq_pairs x
JOIN pg_class ps ON ps.oid = x.pseq
JOIN pg_class qs ON qs.oid = x.iseq
UNION ALL
-- 22: statistics names, as index names.
SELECT 'swap', 22, 'statistics', s.qname, 'its name goes to the new table''s statistics ' ||
       quote_ident(s.iname) || ', and that name to it',
       format('ALTER STATISTICS %s RENAME TO %I; ALTER STATISTICS %s RENAME TO %I; '
              'ALTER STATISTICS %s.%I RENAME TO %I', s.qname, 'ds_swap_' || s.stat,
              s.iqname, s.stxname, s.stxnamespace::regnamespace, 'ds_swap_' || s.stat,
              s.iname)
FROM stx_pairs s
UNION ALL
-- 30: views reading T, bound to it by OID: replaced by their own definition, which
-- names T and so, after the renames, reads the incoming table.
SELECT 'swap', 30, 'view', r.obj::regclass::text,
       're-pointed at the new table (CREATE OR REPLACE VIEW keeps its grants and ' ||
       'what reads it)',
       format('CREATE OR REPLACE VIEW %s%s AS %s', r.obj::regclass,
              ' WITH (' || array_to_string(r.reloptions, ', ') || ')', pg_get_viewdef(r.obj))
FROM readers r
WHERE r.relkind = 'v'
UNION ALL
-- 31: materialized views reading T, which cannot be replaced: the copy built before the
-- lock (build, above) takes the name of each, the views reading it are replaced by their
-- own definition, which names it and so reads the copy, then it is dropped (RESTRICT:
-- anything else still reading it fails the swap) and the copy's indexes take its
-- indexes' names. No query runs under the lock.
SELECT 'swap', 31, 'materialized view', m.obj::regclass::text,
       'replaced by its copy built before the lock on the new table (' ||
       quote_ident(m.copyname) || '), which takes its name, indexes and readers',
       format('ALTER MATERIALIZED VIEW %s RENAME TO %I; ALTER MATERIALIZED VIEW %s RENAME TO %I',
              m.obj::regclass, 'ds_swap_mvold_' || m.obj, m.copy, m.relname) ||
       coalesce((SELECT string_agg(format('; CREATE OR REPLACE VIEW %s%s AS %s', v.oid::regclass,
                   ' WITH (' || array_to_string(v.reloptions, ', ') || ')',
                   rtrim(pg_get_viewdef(v.oid), '; ')), '' ORDER BY v.oid)
                 FROM pg_class v
                 WHERE v.relkind = 'v' AND v.oid IN (
                   SELECT w.ev_class FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
                   WHERE d.classid = 'pg_rewrite'::regclass
                     AND d.refclassid = 'pg_class'::regclass AND d.refobjid = m.obj)), '') ||
       format('; DROP MATERIALIZED VIEW %s.%I RESTRICT', m.relnamespace::regnamespace,
              'ds_swap_mvold_' || m.obj) ||
       coalesce((SELECT string_agg(format('; ALTER INDEX %s.%I RENAME TO %I',
                   m.relnamespace::regnamespace, 'ds_swap_mvi_' || x.indexrelid, c.relname),
                   '' ORDER BY x.indexrelid)
                 FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                 WHERE x.indrelid = m.obj), '')
FROM mv m
UNION ALL
-- 32: functions with a SQL body (BEGIN ATOMIC) that uses T, also bound by OID.
SELECT 'swap', 32, 'function', f.oid::regprocedure::text,
       're-created from its definition (its SQL body is bound to the old table)',
       pg_get_functiondef(f.oid)
FROM pg_proc f
WHERE f.prosqlbody IS NOT NULL
  AND f.oid IN (SELECT d.objid FROM pg_depend d
                WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = $1::oid)
UNION ALL
-- 40: foreign keys of other tables referencing T: re-created on the incoming table NOT
-- VALID, which needs no scan under the lock ...
SELECT 'swap', 40, 'foreign key', format('%I on %s', c.conname, c.conrelid::regclass),
       're-pointed at the new table NOT VALID, validated after the swap',
       format('ALTER TABLE %s DROP CONSTRAINT %I; ALTER TABLE %s ADD CONSTRAINT %I %s%s',
              c.conrelid::regclass, c.conname, c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid), CASE WHEN c.convalidated THEN ' NOT VALID' END)
FROM pg_constraint c
WHERE c.confrelid = $1::oid AND c.contype = 'f' AND c.conrelid <> $1::oid
UNION ALL

-- After the commit (after).

-- 40: ... and validated again, those that were valid, once the lock is gone.
SELECT 'after', 40, 'foreign key', format('%I on %s', c.conname, c.conrelid::regclass),
       'validated', format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.conrelid::regclass,
                           c.conname)
FROM pg_constraint c
WHERE c.confrelid = $1::oid AND c.contype = 'f' AND c.conrelid <> $1::oid
  AND c.convalidated
) plan
ORDER BY ord, kind, name
