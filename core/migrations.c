/*
 * migrations.c: the state store's schema history. Append only: a released migration is
 * never edited, a change is a new migration. Each runs with search_path set to the
 * state schema, in the same transaction as its row in schema_migrations.
 */
#include "store.h"

static const struct ds_migration migrations[] = {
	{ 1, "audit log",
	  "CREATE TABLE audit_log (\n"
	  "    id bigserial PRIMARY KEY,\n"
	  "    at timestamptz NOT NULL DEFAULT now(),\n"
	  "    db_user text NOT NULL DEFAULT current_user,\n"
	  "    client_addr inet DEFAULT inet_client_addr(),\n"
	  "    command text NOT NULL,\n"
	  "    outcome text NOT NULL,\n"
	  "    detail jsonb\n"
	  ");\n"
	  "CREATE INDEX audit_log_at ON audit_log (at);\n" },
};

const struct ds_migration *ds_store_migrations(int *count)
{
	*count = (int)(sizeof(migrations) / sizeof(migrations[0]));
	return migrations;
}

int ds_store_latest_version(void)
{
	int n;
	const struct ds_migration *m = ds_store_migrations(&n);

	return m[n - 1].version;
}
