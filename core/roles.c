/* roles.c: the roles, and the one list of what each may do to the state schema. */
#include <stdlib.h>
#include <string.h>

#include "roles.h"
#include "util.h"

/*
 * One line per object of the state schema: what each role adds to the role before it
 * (an operator is also a viewer, an admin also an operator). A new table or function
 * adds its line here; init revokes everything from the three roles and grants this list
 * again, so the list is the whole truth.
 */
static const struct grant {
	const char *object; /* "TABLE runs", "FUNCTION f(text)"; "SCHEMA" is the schema */
	const char *viewer, *operator, * admin;
} grants[] = {
	/* object                   viewer     operator                 admin */
	{ "SCHEMA", "USAGE", NULL, NULL },
	{ "TABLE schema_migrations", "SELECT", NULL, NULL },
	/* Nobody writes the log but audit_write(), which runs as the owner. */
	{ "TABLE audit_log", "SELECT", NULL, NULL },
	{ "FUNCTION audit_write(text, text, text, jsonb)", "EXECUTE", NULL, NULL },
	/*
	 * Workers lock the rows of open graphs to count their slots, which PostgreSQL
	 * allows only to a role that may update some column: paused_at is the one whose
	 * change does least harm.
	 */
	{ "TABLE graphs", "SELECT", "UPDATE (paused_at)", "INSERT, UPDATE" },
	{ "TABLE tasks", "SELECT", NULL, "INSERT, UPDATE" },
	{ "SEQUENCE tasks_id_seq", NULL, NULL, "USAGE" },
	{ "TABLE task_deps", "SELECT", NULL, "INSERT, DELETE" },
	{ "TABLE batches", "SELECT", "INSERT, UPDATE, DELETE", NULL },
	{ "SEQUENCE batches_id_seq", NULL, "USAGE", NULL },
	{ "TABLE runs", "SELECT", "INSERT, UPDATE", NULL },
	{ "SEQUENCE runs_id_seq", NULL, "USAGE", NULL },
	{ "TABLE partitions", "SELECT", "INSERT, UPDATE", NULL },
	{ "TABLE workers", "SELECT", "INSERT, UPDATE", NULL },
	/* Workers open and close breakers and raise alerts; operators answer them. */
	{ "TABLE breakers", "SELECT", "INSERT, UPDATE", NULL },
	{ "TABLE alerts", "SELECT", "INSERT, UPDATE", NULL },
	{ "SEQUENCE alerts_id_seq", NULL, "USAGE", NULL },
	/* The swap journal: the admin's, who rebuilds tables. */
	{ "TABLE swaps", "SELECT", NULL, "INSERT, UPDATE" },
	{ "SEQUENCE swaps_id_seq", NULL, NULL, "USAGE" },
};

#define ROLES DS_ROLE_VIEWER ", " DS_ROLE_OPERATOR ", " DS_ROLE_ADMIN

/*
 * Role names are constants, never input. A role another init creates at the same time
 * is as good as ours. Without CREATEROLE this fails with SQLSTATE 42501.
 */
static const char create_roles_sql[] =
	"DO $ds$\n"
	"DECLARE r text[] := ARRAY['" DS_ROLE_VIEWER "', '" DS_ROLE_OPERATOR "', '" DS_ROLE_ADMIN
	"'];\n"
	"BEGIN\n"
	"  FOR i IN 1..3 LOOP\n"
	"    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r[i]) THEN\n"
	"      BEGIN\n"
	"        EXECUTE format('CREATE ROLE %I NOLOGIN', r[i]);\n"
	"      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;\n"
	"      END;\n"
	"    END IF;\n"
	"    IF i > 1 AND NOT pg_catalog.pg_has_role(r[i], r[i - 1], 'MEMBER') THEN\n"
	"      EXECUTE format('GRANT %I TO %I', r[i - 1], r[i]);\n"
	"    END IF;\n"
	"  END LOOP;\n"
	"END\n"
	"$ds$";

static void add_grant(struct ds_buf *b, const char *schema, const char *object,
		      const char *privileges, const char *role)
{
	const char *space;

	if (!privileges)
		return;
	if (!strcmp(object, "SCHEMA")) {
		ds_buf_addf(b, "GRANT %s ON SCHEMA %s TO %s;\n", privileges, schema, role);
		return;
	}
	space = strchr(object, ' ');
	ds_buf_addf(b, "GRANT %s ON %.*s %s.%s TO %s;\n", privileges, (int)(space - object), object,
		    schema, space + 1, role);
}

/* Revoke all from the three roles, then grant the list: one script, one round trip. */
static char *grants_sql(const char *schema)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_addf(&b,
		    "REVOKE ALL ON ALL TABLES IN SCHEMA %1$s FROM " ROLES ";\n"
		    "REVOKE ALL ON ALL SEQUENCES IN SCHEMA %1$s FROM " ROLES ";\n"
		    "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %1$s FROM " ROLES ";\n"
		    "REVOKE ALL ON SCHEMA %1$s FROM " ROLES ";\n",
		    schema);
	for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
		add_grant(&b, schema, grants[i].object, grants[i].viewer, DS_ROLE_VIEWER);
		add_grant(&b, schema, grants[i].object, grants[i].operator, DS_ROLE_OPERATOR);
		add_grant(&b, schema, grants[i].object, grants[i].admin, DS_ROLE_ADMIN);
	}
	return ds_buf_take(&b);
}

int ds_roles_apply(struct ds_db *db, struct ds_error *err)
{
	char *sql;
	int rc;

	if (ds_db_exec(db, create_roles_sql, err) < 0) {
		if (strcmp(err->sqlstate, "42501"))
			return -1;
		ds_error_set(err, DS_ERR_FAILED,
			     "cannot create the roles " ROLES ": permission denied");
		return ds_error_hint(err, "run init as a role with CREATEROLE, or have a "
					  "superuser create them first: CREATE ROLE " DS_ROLE_VIEWER
					  " NOLOGIN; and so on");
	}
	sql = grants_sql(db->schema_ident);
	rc = ds_db_exec(db, sql, err);
	free(sql);
	return rc;
}

char *ds_roles_fingerprint(struct ds_db *db, struct ds_error *err)
{
	static const char sql[] =
		"SELECT md5(concat_ws('|',\n"
		"  (SELECT string_agg(r.rolname || '<' || coalesce((SELECT string_agg(\n"
		"      m.roleid::regrole::text, ',' ORDER BY m.roleid::regrole::text)\n"
		"      FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid), ''), ';'\n"
		"      ORDER BY r.rolname)\n"
		"   FROM pg_catalog.pg_roles r WHERE r.rolname IN ('" DS_ROLE_VIEWER
		"', '" DS_ROLE_OPERATOR "', '" DS_ROLE_ADMIN "')),\n"
		"  (SELECT nspacl::text FROM pg_catalog.pg_namespace WHERE oid = n.oid),\n"
		"  (SELECT string_agg(c.relname || coalesce(c.relacl::text, ''), ';'\n"
		"      ORDER BY c.relname) FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid),\n"
		"  (SELECT string_agg(a.attrelid::text || a.attname || a.attacl::text, ';'\n"
		"      ORDER BY a.attrelid, a.attnum) FROM pg_catalog.pg_attribute a\n"
		"      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid\n"
		"      WHERE c.relnamespace = n.oid AND a.attacl IS NOT NULL),\n"
		"  (SELECT string_agg(p.oid::regprocedure::text || coalesce(p.proacl::text, ''),\n"
		"      ';' ORDER BY p.oid) FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid)))\n"
		"FROM (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1\n"
		"      UNION ALL SELECT 0::oid LIMIT 1) n";
	const char *params[] = { db->schema };
	PGresult *res = ds_db_query(db, sql, 1, params, err);
	char *fp;

	if (!res)
		return NULL;
	fp = ds_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return fp;
}
