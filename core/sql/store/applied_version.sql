-- The version of the tables, before migration 7.
SELECT max(version), NULL
FROM @schema@.schema_migrations
