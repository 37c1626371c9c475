-- What status shows first: the connection ($2 host and $3 port as libpq reports them),
-- the schema ($1 its name, $4 the latest version this datashell knows) and the audit
-- log, each a JSON object, in one row.
SELECT json_build_object('server_version', current_setting('server_version'),
                         'database', current_database(),
                         'user', current_user,
                         'host', $2::text,
                         'port', $3::text) AS connection,
       json_build_object('name', $1::text,
                         'version', (SELECT max(version) FROM @schema@.schema_migrations),
                         'latest', $4::integer,
                         'initialized_at', (SELECT @schema@.iso_utc(min(applied_at))
                                            FROM @schema@.schema_migrations),
                         'upgraded_at', (SELECT @schema@.iso_utc(max(applied_at))
                                         FROM @schema@.schema_migrations)) AS schema,
       json_build_object('entries', (SELECT count(*) FROM @schema@.audit_log),
                         'last_at', (SELECT @schema@.iso_utc(max(at))
                                     FROM @schema@.audit_log)) AS audit_log
