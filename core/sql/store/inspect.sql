-- Whether the state schema ($1) exists, whether it is a datashell state store, and
-- whether it records its definitions (since migration 7). Read from the catalog, which
-- anyone may read, so that a role without access still learns what is there.
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),
       EXISTS (SELECT 1
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relname = 'schema_migrations'),
       EXISTS (SELECT 1
               FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relname = 'schema_definitions')
