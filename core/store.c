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
#include "pipeline.h"
#include "roles.h"
#include "sql.h"
#include "store.h"
#include "util.h"

/* Parse a count or version the server returned; NULL (no rows) reads as 0. */
static int int_value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : atoi(PQgetvalue(res, row, col));
}

int ds_store_latest_version(void)
{
	int latest = 0;

	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++)
		latest = m->version;
	return latest;
}

const char *ds_store_migration_name(int version)
{
	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++)
		if (m->version == version)
			return m->name;
	return NULL;
}

/*
 * The version of the tables and whether the definitions are this binary's, in a schema
 * that has schema_migrations (and, since migration 7, schema_definitions).
 */
static int applied_state(struct ds_db *db, int has_definitions, int *version,
			 int *definitions_current, struct ds_error *err)
{
	PGresult *res = ds_sql_query(
		db, has_definitions ? DS_SQL_STORE_APPLIED_STATE : DS_SQL_STORE_APPLIED_VERSION, 0,
		NULL, err);

	if (!res)
		return -1;
	*version = int_value(res, 0, 0);
	*definitions_current = !PQgetisnull(res, 0, 1) &&
			       !strcmp(PQgetvalue(res, 0, 1), ds_sql_definitions_fingerprint);
	PQclear(res);
	return 0;
}

int ds_store_inspect(struct ds_db *db, struct ds_schema_info *info, struct ds_error *err)
{
	const char *params[] = { db->schema };
	PGresult *res = ds_sql_query(db, DS_SQL_STORE_INSPECT, 1, params, err);
	int has_table, has_definitions;

	if (!res)
		return -1;
	memset(info, 0, sizeof(*info));
	info->latest = ds_store_latest_version();
	info->exists = PQgetvalue(res, 0, 0)[0] == 't';
	has_table = PQgetvalue(res, 0, 1)[0] == 't';
	has_definitions = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);

	if (!has_table) {
		info->state = DS_SCHEMA_MISSING;
		return 0;
	}
	if (applied_state(db, has_definitions, &info->version, &info->definitions_current, err) < 0)
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
		if (info.definitions_current)
			return 0;
		ds_error_set(err, DS_ERR_FAILED,
			     "the functions of schema '%s' are not those of this datashell",
			     db->schema);
		return ds_error_hint(err, "run 'datashell init' to bring them up to date");
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
	report->from_version = version;
	report->to_version = version;
	report->napplied = 0;
	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++) {
		if (m->version <= version)
			continue;
		report->applied[report->napplied++] = m->version;
		report->to_version = m->version;
	}
}

static const struct ds_sql_migration *find_migration(int version)
{
	for (const struct ds_sql_migration *m = ds_sql_migrations; m->version; m++)
		if (m->version == version)
			return m;
	return NULL;
}

/* Run a statement of the store whose only parameter is the schema's name. */
static int run_with_schema(struct ds_db *db, enum ds_sql_id id, struct ds_error *err)
{
	const char *params[] = { db->schema };
	PGresult *res = ds_sql_query(db, id, 1, params, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

static int lock_and_bootstrap(struct ds_db *db, struct ds_schema_info *info, struct ds_error *err)
{
	if (run_with_schema(db, DS_SQL_STORE_LOCK, err) < 0 || ds_store_inspect(db, info, err) < 0)
		return -1;
	if (ds_db_exec(db, ds_sql(db, DS_SQL_STORE_CREATE_SCHEMA), err) < 0 ||
	    ds_db_exec(db, ds_sql(db, DS_SQL_STORE_CREATE_MIGRATIONS_TABLE), err) < 0 ||
	    ds_db_exec(db, ds_sql(db, DS_SQL_STORE_SEARCH_PATH), err) < 0)
		return -1;
	return 0;
}

static int apply_migration(struct ds_db *db, const struct ds_sql_migration *m, struct ds_error *err)
{
	char version[16];
	const char *params[] = { version, m->name };
	PGresult *res;

	if (ds_sql_exec_script(db, m->text, err) < 0)
		return ds_error_hint(err, "migration %d (%s) failed; nothing was changed",
				     m->version, m->name);
	snprintf(version, sizeof(version), "%d", m->version);
	res = ds_sql_query(db, DS_SQL_STORE_RECORD_MIGRATION, 2, params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * Functions, triggers and grants are applied as this binary has them, every time: each
 * has one home in core/sql/definitions/, and a schema whose definitions were changed
 * by hand or by another build is set right.
 */
static int apply_definitions(struct ds_db *db, struct ds_error *err)
{
	const char *params[] = { ds_sql_definitions_fingerprint };
	PGresult *res;

	for (const struct ds_sql_file *f = ds_sql_definitions; f->path; f++)
		if (ds_sql_exec_script(db, f->text, err) < 0)
			return ds_error_hint(err, "core/sql/%s failed; nothing was changed",
					     f->path);
	res = ds_sql_query(db, DS_SQL_STORE_RECORD_DEFINITIONS, 1, params, err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * The roles and the definitions, grants among them, are re-applied by every init, so
 * that one repairs what was changed by hand; a fingerprint of the roles and grants taken
 * before and after tells whether that changed any of them.
 */
static int apply_roles_and_definitions(struct ds_db *db, int *grants_changed, struct ds_error *err)
{
	char *before = ds_roles_fingerprint(db, err), *after = NULL;
	int rc = -1;

	if (before && ds_roles_create(db, err) == 0 && apply_definitions(db, err) == 0 &&
	    (after = ds_roles_fingerprint(db, err))) {
		*grants_changed = strcmp(before, after) != 0;
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
	if (!report->napplied && !report->grants_changed && !report->definitions_updated) {
		if (audit)
			audit->unchanged = 1;
		return 0;
	}
	ds_audit_touch(audit, json_pack("{s:i, s:i, s:b, s:b}", "schema_from", report->from_version,
					"schema_to", report->to_version, "grants_changed",
					report->grants_changed, "definitions_updated",
					report->definitions_updated));
	return ds_audit_ok(db, audit, err);
}

static int init_in_transaction(struct ds_db *db, struct ds_audit *audit,
			       struct ds_init_report *report, struct ds_error *err)
{
	struct ds_schema_info info;

	if (lock_and_bootstrap(db, &info, err) < 0)
		return -1;
	if (info.state == DS_SCHEMA_NEWER)
		return newer_schema_error(db, info.version, err);
	plan_migrations(info.version, report);
	report->created = !info.exists;
	report->definitions_updated = info.state != DS_SCHEMA_MISSING && !info.definitions_current;
	for (int i = 0; i < report->napplied; i++)
		if (apply_migration(db, find_migration(report->applied[i]), err) < 0)
			return -1;
	if (apply_roles_and_definitions(db, &report->grants_changed, err) < 0)
		return -1;
	/* Tasks stored before versions existed get theirs, and their runs with them. */
	if (ds_task_versions_fill(db, err) < 0)
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
		report->definitions_updated =
			info.state != DS_SCHEMA_MISSING && !info.definitions_current;
		return 0;
	}
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	if (ds_db_end(db, init_in_transaction(db, audit, report, err), err) < 0)
		return strcmp(err->sqlstate, "42501") ? -1 : not_owner_error(db, err);
	return 0;
}
