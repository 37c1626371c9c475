/*
 * store.c: inspecting, creating and upgrading the state schema.
 *
 * The schema name reaches SQL as a parameter when it is a value and quoted with
 * PQescapeIdentifier when it names something; it is never pasted in raw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "roles.h"
#include "store.h"
#include "util.h"

/* Parse a count or version the server returned; NULL (no rows) reads as 0. */
static int int_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : atoi(PQgetvalue(res, row, col));
}

static int applied_version(struct ds_db *db, int *version, struct ds_error *err)
{
	char *sql = ds_xprintf("SELECT max(version) FROM %s.schema_migrations", db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 0, NULL, err);

	free(sql);
	if (!res)
		return -1;
	*version = int_value(res, 0, 0);
	PQclear(res);
	return 0;
}

int ds_store_inspect(struct ds_db *db, struct ds_schema_info *info, struct ds_error *err)
{
	static const char sql[] =
		"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),"
		"       EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
		"               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		"               WHERE n.nspname = $1 AND c.relname = 'schema_migrations')";
	const char *params[] = { db->schema };
	PGresult *res = ds_db_query(db, sql, 1, params, err);
	int has_table;

	if (!res)
		return -1;
	memset(info, 0, sizeof(*info));
	info->latest = ds_store_latest_version();
	info->exists = PQgetvalue(res, 0, 0)[0] == 't';
	has_table = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);

	if (!has_table) {
		info->state = DS_SCHEMA_MISSING;
		return 0;
	}
	if (applied_version(db, &info->version, err) < 0)
		return -1;
	if (info->version < info->latest)
		info->state = DS_SCHEMA_OLDER;
	else if (info->version > info->latest)
		info->state = DS_SCHEMA_NEWER;
	else
		info->state = DS_SCHEMA_CURRENT;
	return 0;
}

static int newer_schema_error(struct ds_db *db, int version, struct ds_error *err)
{
	ds_error_set(err, DS_ERR_FAILED,
		     "schema '%s' is at version %d, newer than this datashell knows (%d)",
		     db->schema, version, ds_store_latest_version());
	return ds_error_hint(err, "upgrade datashell to a release that knows version %d", version);
}

int ds_store_require_current(struct ds_db *db, struct ds_error *err)
{
	struct ds_schema_info info;

	if (ds_store_inspect(db, &info, err) < 0)
		return -1;
	switch (info.state) {
	case DS_SCHEMA_CURRENT:
		return 0;
	case DS_SCHEMA_MISSING:
		if (info.exists)
			ds_error_set(err, DS_ERR_FAILED,
				     "schema '%s' in database '%s' is not a datashell state store",
				     db->schema, PQdb(db->conn));
		else
			ds_error_set(err, DS_ERR_FAILED,
				     "schema '%s' does not exist in database '%s'", db->schema,
				     PQdb(db->conn));
		return ds_error_hint(err, "run 'datashell init' to create it, or choose another "
					  "schema with --schema");
	case DS_SCHEMA_OLDER:
		ds_error_set(err, DS_ERR_FAILED,
			     "schema '%s' is at version %d but this datashell needs version %d",
			     db->schema, info.version, info.latest);
		return ds_error_hint(err, "run 'datashell init' to upgrade it");
	case DS_SCHEMA_NEWER:
		return newer_schema_error(db, info.version, err);
	}
	return ds_error_set(err, DS_ERR_FAILED, "schema '%s' is in an unknown state", db->schema);
}

/* List the migrations above version into report, in order. */
static void plan_migrations(int version, struct ds_init_report *report)
{
	int n;
	const struct ds_migration *m = ds_store_migrations(&n);

	report->from_version = version;
	report->to_version = version;
	report->napplied = 0;
	for (int i = 0; i < n; i++) {
		if (m[i].version <= version)
			continue;
		report->applied[report->napplied++] = m[i].version;
		report->to_version = m[i].version;
	}
}

static const struct ds_migration *find_migration(int version)
{
	int n;
	const struct ds_migration *m = ds_store_migrations(&n);

	for (int i = 0; i < n; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

static int lock_and_bootstrap(struct ds_db *db, int *created, struct ds_error *err)
{
	struct ds_schema_info info;
	const char *params[] = { db->schema };
	PGresult *res;
	char *sql;
	int rc;

	/*
	 * Everyone upgrading this schema takes the same transaction-scoped lock first, so a
	 * second init waits for the first and then finds nothing left to do.
	 */
	res = ds_db_query(db,
			  "SELECT pg_advisory_xact_lock(hashtextextended("
			  "'datashell.init.' || $1, 0))",
			  1, params, err);
	if (!res)
		return -1;
	PQclear(res);
	if (ds_store_inspect(db, &info, err) < 0)
		return -1;
	*created = !info.exists;
	sql = ds_xprintf("CREATE SCHEMA IF NOT EXISTS %1$s;\n"
			 "CREATE TABLE IF NOT EXISTS %1$s.schema_migrations (\n"
			 "    version integer PRIMARY KEY,\n"
			 "    name text NOT NULL,\n"
			 "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
			 "    applied_by text NOT NULL DEFAULT current_user\n"
			 ");\n"
			 "SET LOCAL search_path TO %1$s;\n",
			 db->schema_ident);
	rc = ds_db_exec(db, sql, err);
	free(sql);
	return rc;
}

static int apply_migration(struct ds_db *db, const struct ds_migration *m, struct ds_error *err)
{
	char version[16];
	const char *params[] = { version, m->name };
	char *sql = ds_replace_all(m->sql, "@schema@", db->schema_ident);
	PGresult *res;
	int rc = ds_db_exec(db, sql, err);

	free(sql);
	if (rc < 0)
		return ds_error_hint(err, "migration %d (%s) failed; nothing was changed",
				     m->version, m->name);
	snprintf(version, sizeof(version), "%d", m->version);
	res = ds_db_query(db, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
			  params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * Roles and grants are re-applied by every init, so that one repairs what was changed by
 * hand; a fingerprint taken before and after tells whether that changed anything.
 */
static int apply_roles(struct ds_db *db, int *changed, struct ds_error *err)
{
	char *before = ds_roles_fingerprint(db, err), *after = NULL;
	int rc = -1;

	if (before && ds_roles_apply(db, err) == 0 && (after = ds_roles_fingerprint(db, err))) {
		*changed = strcmp(before, after) != 0;
		rc = 0;
	}
	free(before);
	free(after);
	return rc;
}

/* What init touched, for its audit row; an init that changed nothing has none. */
static int audit_init(struct ds_db *db, struct ds_audit *audit, const struct ds_init_report *report,
		      struct ds_error *err)
{
	if (!report->napplied && !report->grants_changed) {
		if (audit)
			audit->unchanged = 1;
		return 0;
	}
	ds_audit_touch(audit, json_pack("{s:i, s:i, s:b}", "schema_from", report->from_version,
					"schema_to", report->to_version, "grants_changed",
					report->grants_changed));
	return ds_audit_ok(db, audit, err);
}

static int init_in_transaction(struct ds_db *db, struct ds_audit *audit,
			       struct ds_init_report *report, struct ds_error *err)
{
	int version;

	int created;

	if (lock_and_bootstrap(db, &created, err) < 0 || applied_version(db, &version, err) < 0)
		return -1;
	if (version > ds_store_latest_version())
		return newer_schema_error(db, version, err);
	plan_migrations(version, report);
	report->created = created;
	for (int i = 0; i < report->napplied; i++)
		if (apply_migration(db, find_migration(report->applied[i]), err) < 0)
			return -1;
	if (apply_roles(db, &report->grants_changed, err) < 0)
		return -1;
	return audit_init(db, audit, report, err);
}

/* Only the schema's owner (or a role that may create it) can run init. */
static int not_owner_error(struct ds_db *db, struct ds_error *err)
{
	char reason[sizeof(err->message)];

	snprintf(reason, sizeof(reason), "%s", err->message);
	ds_error_set(err, DS_ERR_FAILED,
		     "init needs the owner of schema '%s' in database '%s' "
		     "(you are %s): %s",
		     db->schema, PQdb(db->conn), PQuser(db->conn), reason);
	return ds_error_hint(err, "have the schema's owner or a database administrator run it");
}

int ds_store_init(struct ds_db *db, struct ds_audit *audit, int dry_run,
		  struct ds_init_report *report, struct ds_error *err)
{
	memset(report, 0, sizeof(*report));
	if (dry_run) {
		struct ds_schema_info info;

		if (ds_store_inspect(db, &info, err) < 0)
			return -1;
		if (info.state == DS_SCHEMA_NEWER)
			return newer_schema_error(db, info.version, err);
		plan_migrations(info.version, report);
		report->created = !info.exists;
		return 0;
	}
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	if (ds_db_end(db, init_in_transaction(db, audit, report, err), err) < 0)
		return strcmp(err->sqlstate, "42501") ? -1 : not_owner_error(db, err);
	return 0;
}
