-- The oids of two tables given as SQL writes them ($1, $2), NULL for one that does not
-- exist (to_regclass, not ::regclass, so that the caller can say which, and why).
SELECT to_regclass($1)::oid AS first,
       to_regclass($2)::oid AS second
