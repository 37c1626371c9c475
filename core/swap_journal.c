/*
 * swap_journal.c: the journal of table swaps: starting one, finding the active swap of
 * a table, accepting a failed check, the statements left for after a commit, status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "swap.h"
#include "util.h"

void ds_swap_release(struct ds_swap *sw)
{
	free(sw->schema);
	free(sw->table);
	free(sw->shadow);
	free(sw->old);
	free(sw->state);
	free(sw->qtable);
	free(sw->qshadow);
	free(sw->qold);
	memset(sw, 0, sizeof(*sw));
}

/*
 * The schema and name of an existing table given as SQL writes it. Returns a result
 * with one row (nspname, relname, relkind, oid) or NULL with err filled.
 */
static PGresult *resolve_table(struct ds_db *db, const char *table, struct ds_error *err)
{
	const char *params[] = { table };
	PGresult *res =
		ds_db_query(db,
			    "SELECT n.nspname, c.relname, c.relkind, c.oid\n"
			    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
			    "WHERE c.oid = to_regclass($1)",
			    1, params, err);

	if (!res)
		return NULL;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "no table '%s'", table);
		ds_error_hint(err, "write the name as SQL does: orders, public.orders, "
				   "'\"Order Items\"'");
		return NULL;
	}
	return res;
}

static char *qualified(struct ds_db *db, const char *schema, const char *name)
{
	char *s = PQescapeIdentifier(db->conn, schema, strlen(schema));
	char *n = PQescapeIdentifier(db->conn, name, strlen(name));
	char *q = ds_xprintf("%s.%s", s, n);

	PQfreemem(s);
	PQfreemem(n);
	return q;
}

static void fill_names(struct ds_db *db, struct ds_swap *sw)
{
	sw->qtable = qualified(db, sw->schema, sw->table);
	sw->qshadow = qualified(db, sw->schema, sw->shadow);
	sw->qold = qualified(db, sw->schema, sw->old);
}

int ds_swap_find(struct ds_db *db, const char *table, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res = resolve_table(db, table, err), *j;
	const char *params[2];
	char *sql;

	memset(sw, 0, sizeof(*sw));
	if (!res)
		return -1;
	params[0] = PQgetvalue(res, 0, 0);
	params[1] = PQgetvalue(res, 0, 1);
	sql = ds_xprintf("SELECT id, shadow_name, old_name, state, timings->>'mode' = 'v2'\n"
			 "FROM %s.swaps\n"
			 "WHERE table_schema = $1 AND table_name = $2 AND state <> 'finished'",
			 db->schema_ident);
	j = ds_db_query(db, sql, 2, params, err);
	free(sql);
	if (!j) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(j) == 0) {
		ds_error_set(err, DS_ERR_FAILED, "no swap of table '%s' is under way", table);
		ds_error_hint(err,
			      "start one with 'swap-table start %s'; 'swap-table status' "
			      "lists them",
			      table);
		PQclear(j);
		PQclear(res);
		return -1;
	}
	sw->id = atoll(PQgetvalue(j, 0, 0));
	sw->schema = ds_xstrdup(params[0]);
	sw->table = ds_xstrdup(params[1]);
	sw->shadow = ds_xstrdup(PQgetvalue(j, 0, 1));
	sw->old = ds_xstrdup(PQgetvalue(j, 0, 2));
	sw->state = ds_xstrdup(PQgetvalue(j, 0, 3));
	sw->v2 = PQgetvalue(j, 0, 4)[0] == 't';
	fill_names(db, sw);
	PQclear(j);
	PQclear(res);
	return 0;
}

/* Another swap of the same table is under way: say whose, and refuse. */
static int refuse_second(struct ds_db *db, const struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->schema, sw->table };
	char *sql = ds_xprintf(
		"SELECT id, started_by, " DS_SQL_ISO(
			"started_at") ", state\n"
				      "FROM %s.swaps WHERE table_schema = $1 AND table_name = $2\n"
				      "AND state <> 'finished'",
		db->schema_ident);
	PGresult *res = ds_db_query(db, sql, 2, params, err);
	int rc = 0;

	free(sql);
	if (!res)
		return -1;
	if (PQntuples(res)) {
		ds_error_set(err, DS_ERR_FAILED,
			     "table '%s' already has swap %s, started by %s at %s (%s)", sw->table,
			     PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			     PQgetvalue(res, 0, 3));
		rc = ds_error_hint(err, "one swap per table: finish or roll back that one first");
	}
	PQclear(res);
	return rc;
}

/* The incoming table must have every column of T, of the same type. */
static int check_superset(struct ds_db *db, const struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow };
	PGresult *res = ds_db_query(
		db,
		"SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid,\n"
		"       a.atttypmod)), ', ' ORDER BY a.attnum)\n"
		"FROM pg_attribute a\n"
		"WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped\n"
		"AND NOT EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = $2::regclass\n"
		"  AND b.attname = a.attname AND b.atttypid = a.atttypid AND NOT b.attisdropped)",
		2, params, err);
	int rc = 0;

	if (!res)
		return -1;
	if (!PQgetisnull(res, 0, 0)) {
		ds_error_set(err, DS_ERR_FAILED, "%s lacks columns of %s: %s", sw->qshadow,
			     sw->qtable, PQgetvalue(res, 0, 0));
		rc = ds_error_hint(err, "the new definition must keep every column of the "
					"table, with its type, so that what reads it still works");
	}
	PQclear(res);
	return rc;
}

/*
 * Only a plain table that is not a partition can be swapped by renaming it: the
 * partitions of a partitioned table would stay with the old one, and a partition
 * renamed away would stay attached while the new table would not be.
 */
static int require_plain(struct ds_db *db, const char *table_q, struct ds_error *err)
{
	const char *params[] = { table_q };
	PGresult *res = ds_db_query(
		db,
		"SELECT c.relkind, c.relispartition, i.inhparent::regclass::text,\n"
		"       CASE c.relkind WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view'\n"
		"         WHEN 'f' THEN 'a foreign table' WHEN 'S' THEN 'a sequence'\n"
		"         WHEN 'c' THEN 'a composite type' ELSE 'an index' END\n"
		"FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid\n"
		"WHERE c.oid = $1::regclass",
		1, params, err);
	const char *kind;
	int rc = 0;

	if (!res)
		return -1;
	kind = PQgetvalue(res, 0, 0);
	if (!strcmp(kind, "p")) {
		ds_error_set(err, DS_ERR_FAILED,
			     "%s is a partitioned table: swap-table swaps "
			     "plain tables only (its partitions would stay with the old one)",
			     table_q);
		rc = ds_error_hint(err,
				   "rebuild it a partition at a time: fill a table like the "
				   "partition, then in one transaction ALTER TABLE %s DETACH "
				   "PARTITION the old one and ATTACH PARTITION the new one",
				   table_q);
	} else if (PQgetvalue(res, 0, 1)[0] == 't') {
		ds_error_set(err, DS_ERR_FAILED,
			     "%s is a partition of %s: swap-table swaps "
			     "plain tables only (the old one would stay attached, the new one "
			     "would not be)",
			     table_q, PQgetvalue(res, 0, 2));
		rc = ds_error_hint(err,
				   "fill a table like it, then in one transaction ALTER TABLE "
				   "%s DETACH PARTITION %s and ATTACH PARTITION the new one with "
				   "the same bounds",
				   PQgetvalue(res, 0, 2), table_q);
	} else if (strcmp(kind, "r")) {
		ds_error_set(err, DS_ERR_FAILED, "%s is %s, not a table", table_q,
			     PQgetvalue(res, 0, 3));
		rc = ds_error_hint(err, "swap-table swaps plain tables: name the table that holds "
					"the rows");
	}
	PQclear(res);
	return rc;
}

/* The user's CREATE TABLE for the shadow: it must make it, with T's columns. */
static int run_create_sql(struct ds_db *db, const struct ds_swap *sw, const char *create_sql,
			  struct ds_error *err)
{
	const char *params[] = { sw->qshadow };
	PGresult *res;
	int made;

	if (ds_db_exec(db, create_sql, err) < 0)
		return -1;
	res = ds_db_query(db, "SELECT to_regclass($1) IS NOT NULL", 1, params, err);
	if (!res)
		return -1;
	made = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!made) {
		ds_error_set(err, DS_ERR_FAILED, "the SQL did not create %s", sw->qshadow);
		return ds_error_hint(err, "--create-sql FILE must create the table %s",
				     sw->qshadow);
	}
	if (require_plain(db, sw->qshadow, err) < 0)
		return -1;
	return check_superset(db, sw, err);
}

/* Create the shadow table and its journal row; runs inside the caller's transaction. */
static int start_in_transaction(struct ds_db *db, struct ds_swap *sw, const char *create_sql,
				struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = { sw->schema, sw->table, sw->shadow, sw->old,
				 sw->v2 ? "{\"mode\": \"v2\"}" : "{}" };
	char *sql;
	PGresult *res;
	int rc;

	if (refuse_second(db, sw, err) < 0)
		return -1;
	if (create_sql) {
		if (run_create_sql(db, sw, create_sql, err) < 0)
			return -1;
	} else {
		sql = ds_xprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)", sw->qshadow,
				 sw->qtable);
		rc = ds_db_exec(db, sql, err);
		free(sql);
		if (rc < 0)
			return -1;
	}
	if (sw->v2 && ds_swap_copy_bindings(db, sw, err) < 0)
		return -1;
	sql = ds_xprintf("INSERT INTO %s.swaps (table_schema, table_name, shadow_name, "
			 "old_name, timings) VALUES ($1, $2, $3, $4, $5) RETURNING id",
			 db->schema_ident);
	res = ds_db_query(db, sql, 5, params, err);
	free(sql);
	if (!res)
		return -1;
	sw->id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	ds_audit_touch(audit, json_pack("{s:I}", "swap", (json_int_t)sw->id));
	return ds_audit_ok(db, audit, err);
}

/*
 * T_backfill and T_old beside T (T_v2 and T itself, the table finish retires, in mode
 * v2), refused when PostgreSQL would have to shorten them.
 */
static int derive_names(struct ds_db *db, struct ds_swap *sw, PGresult *t, struct ds_error *err)
{
	sw->schema = ds_xstrdup(PQgetvalue(t, 0, 0));
	sw->table = ds_xstrdup(PQgetvalue(t, 0, 1));
	sw->shadow = ds_xprintf(sw->v2 ? "%s_v2" : "%s_backfill", sw->table);
	sw->old = ds_xprintf(sw->v2 ? "%s" : "%s_old", sw->table);
	sw->state = ds_xstrdup("started");
	fill_names(db, sw);
	if (strlen(sw->shadow) > 63)
		return ds_error_set(err, DS_ERR_FAILED,
				    "the name '%s' is too long for PostgreSQL (63 bytes)",
				    sw->shadow);
	return 0;
}

static json_t *swap_json(const struct ds_swap *sw)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "swap", (json_int_t)sw->id,
			 "schema", sw->schema, "table", sw->table, "shadow", sw->shadow, "old",
			 sw->old, "state", sw->state, "mode", sw->v2 ? "v2" : "swap");
}

json_t *ds_swap_start(struct ds_db *db, const char *table, const char *create_sql, int v2,
		      int dry_run, struct ds_audit *audit, struct ds_error *err)
{
	struct ds_swap sw = { .v2 = v2 };
	PGresult *t = resolve_table(db, table, err);
	json_t *out = NULL;
	int rc;

	if (!t)
		return NULL;
	rc = derive_names(db, &sw, t, err);
	PQclear(t);
	if (rc == 0)
		rc = require_plain(db, sw.qtable, err);
	if (rc == 0 && ds_db_exec(db, "BEGIN", err) == 0) {
		rc = start_in_transaction(db, &sw, create_sql, audit, err);
		/* A dry run does all of it, to report what would fail, then undoes it. */
		if (dry_run) {
			ds_db_rollback(db);
			sw.id = 0;
		} else {
			rc = ds_db_end(db, rc, err);
		}
		if (rc == 0) {
			out = swap_json(&sw);
			json_object_set_new(out, "dry_run", json_boolean(dry_run));
		}
	}
	ds_swap_release(&sw);
	return out;
}

int ds_swap_accept(struct ds_db *db, struct ds_swap *sw, const char *check, const char *reason,
		   struct ds_audit *audit, struct ds_error *err)
{
	const char *extra[] = { check, reason };
	static const char accept_sql[] =
		"UPDATE %s.swaps SET accepted = accepted || jsonb_build_array(\n"
		"  jsonb_build_object('check', $2::text, 'reason', $3::text, 'by', current_user,\n"
		"                     'at', now()))\n"
		"WHERE id = $1 AND EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c\n"
		"  WHERE c->>'name' = $2 AND c->>'status' = 'failed')\n"
		"RETURNING jsonb_build_object('swap', id, 'accepted', $2::text,\n"
		"  'reason', $3::text)::text";
	PGresult *res;
	int rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	res = ds_swap_query(db, sw, accept_sql, 2, extra, err);
	if (res && PQntuples(res) == 0) {
		ds_error_set(err, DS_ERR_FAILED, "check '%s' of swap %lld has no failed result",
			     check, sw->id);
		ds_error_hint(err,
			      "'swap-table check %s' runs the checks; a check that failed "
			      "can be accepted",
			      sw->table);
		rc = -1;
	} else {
		if (res)
			ds_audit_touch(audit, json_loads(PQgetvalue(res, 0, 0), 0, NULL));
		rc = res ? ds_audit_ok(db, audit, err) : -1;
	}
	PQclear(res);
	return ds_db_end(db, rc, err);
}

PGresult *ds_swap_query(struct ds_db *db, const struct ds_swap *sw, const char *template,
			int nextra, const char *const *extra, struct ds_error *err)
{
	const char *params[4];
	char id[32], *sql;
	PGresult *res;

	if (nextra > 3)
		return ds_error_set(err, DS_ERR_FAILED, "ds_swap_query: too many parameters"), NULL;
	snprintf(id, sizeof(id), "%lld", sw->id);
	params[0] = id;
	for (int i = 0; i < nextra; i++)
		params[i + 1] = extra[i];
	sql = ds_xprintf(template, db->schema_ident);
	res = ds_db_query(db, sql, 1 + nextra, params, err);
	free(sql);
	return res;
}

int ds_swap_run_pending(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res =
		ds_swap_query(db, sw,
			      "SELECT s FROM %s.swaps, jsonb_array_elements_text(pending) s\n"
			      "WHERE id = $1",
			      0, NULL, err);

	/* Each is idempotent (VALIDATE CONSTRAINT), so a killed shell just runs it again. */
	if (ds_db_exec_rows(db, res, err) < 0)
		return -1;
	res = ds_swap_query(db, sw, "UPDATE %s.swaps SET pending = '[]' WHERE id = $1", 0, NULL,
			    err);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

json_t *ds_swap_status(struct ds_db *db, const char *table, struct ds_error *err)
{
	const char *params[2] = { NULL, NULL };
	PGresult *t = NULL;
	json_t *rows;
	/* clang-format off */
	char *sql = ds_xprintf(
		"SELECT id AS swap, format('%%I.%%I', table_schema, table_name) AS \"table\",\n"
		"       coalesce(timings->>'mode', 'swap') AS mode,\n"
		"       " DS_SWAP_SHOWN_STATE("s") " AS state,\n"
		"       started_by, " DS_SQL_ISO("started_at") " AS started_at,\n"
		"       coalesce((SELECT string_agg(c->>'name' || ' ' || (c->>'status'), ', ')\n"
		"                 FROM jsonb_array_elements(checks) c), '') AS checks,\n"
		"       coalesce((SELECT string_agg(a->>'check', ', ')\n"
		"                 FROM jsonb_array_elements(accepted) a), '') AS accepted,\n"
		"       timings->>'lock_ms' AS lock_ms, timings->>'check_ms' AS check_ms,\n"
		"       CASE WHEN jsonb_array_length(pending) > 0\n"
		"              THEN 'foreign keys still to validate: run swap-table ' ||\n"
		"                   CASE state WHEN 'swapped' THEN 'swap' ELSE 'rollback' END\n"
		"            WHEN timings->>'mode' = 'v2' THEN CASE state\n"
		"              WHEN 'started' THEN 'fill ' || shadow_name || ' (the tasks of ' ||\n"
		"                   table_name || ' write both), then check (or abandon)'\n"
		"              WHEN 'checked' THEN 'move the readers to ' || shadow_name ||\n"
		"                   ', then finish (retires ' || table_name || '), or abandon'\n"
		"              ELSE '' END\n"
		"            ELSE CASE state\n"
		"              WHEN 'started' THEN 'fill ' || shadow_name || ', then check (or "
		"abandon)'\n"
		"              WHEN 'checked' THEN 'swap (or abandon)'\n"
		"              WHEN 'swapped' THEN 'finish (or rollback)'\n"
		"              WHEN 'rolled back' THEN 'swap again, or abandon (drops ' ||\n"
		"                   shadow_name || ')'\n"
		"              ELSE '' END END AS next,\n"
		"       jsonb_build_object('checked_at', " DS_SQL_ISO("checked_at") ",\n"
		"         'swapped_at', " DS_SQL_ISO("swapped_at") ",\n"
		"         'rolled_back_at', " DS_SQL_ISO("rolled_back_at") ",\n"
		"         'finished_at', " DS_SQL_ISO("finished_at") ",\n"
		"         'keep_until', " DS_SQL_ISO("keep_until") ",\n"
		"         'checks', checks, 'accepted', accepted, 'timings', timings,\n"
		"         'pending', pending) AS detail\n"
		"FROM %s.swaps s WHERE $1::text IS NULL OR (table_schema, table_name) = ($1, $2)\n"
		"ORDER BY id DESC",
		db->schema_ident);
	/* clang-format on */

	if (table) {
		t = resolve_table(db, table, err);
		if (!t) {
			free(sql);
			return NULL;
		}
		params[0] = PQgetvalue(t, 0, 0);
		params[1] = PQgetvalue(t, 0, 1);
	}
	rows = ds_db_json_rows(db, sql, 2, params, err);
	PQclear(t);
	free(sql);
	return rows;
}
