-- Mode v2, finish: the statements that make the sequences T ($1) owns, and that the
-- defaults of T_v2 ($2) draw from (T_v2 was made LIKE T, which shares them), T_v2's, so
-- that dropping T keeps them. Generated here, run by the caller (ds_db_exec_rows).
SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I', s.oid::regclass, ad.adrelid::regclass,
              b.attname)
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_depend u ON u.classid = 'pg_attrdef'::regclass
  AND u.refclassid = 'pg_class'::regclass
  AND u.refobjid = s.oid
JOIN pg_attrdef ad ON ad.oid = u.objid AND ad.adrelid = $2::regclass
JOIN pg_attribute b ON b.attrelid = ad.adrelid AND b.attnum = ad.adnum
WHERE d.classid = 'pg_class'::regclass
  AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid = $1::regclass
  AND d.deptype = 'a'
