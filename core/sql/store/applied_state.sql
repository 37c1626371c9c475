-- The version of the tables, and the fingerprint of the definitions init last applied.
SELECT (SELECT max(version) FROM @schema@.schema_migrations),
       (SELECT fingerprint FROM @schema@.schema_definitions)
