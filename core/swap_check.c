/*
 * swap_check.c: validating T_backfill against T before the swap.
 *
 * Both tables are read once each, in one statement: per chunk (the value of the key
 * column, or else a hash of the primary key), the row count
 * and an order-independent checksum (bit_xor of a hash of the common columns), plus
 * the NULLs of T's NOT NULL columns in T_backfill. Comparing the aggregates says which
 * keys differ without a join of the rows. Unique keys are compared in the catalog.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "key.h"
#include "sqlvars.h"
#include "swap.h"
#include "util.h"

/*
 * The expressions the comparison groups and hashes by, built by the server from T's
 * columns: a hash of the common columns (types without a hash function as text), the
 * chunk of the primary key, the NULL counts of NOT NULL columns and their names.
 */
static const char pieces_sql[] =
	"WITH cols AS (\n"
	"  SELECT a.attname, a.attnum, a.attnotnull,\n"
	"         CASE WHEN a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,\n"
	"           'numeric'::regtype, 'text'::regtype, 'bool'::regtype, 'date'::regtype,\n"
	"           'timestamp'::regtype, 'timestamptz'::regtype, 'uuid'::regtype,\n"
	"           'float4'::regtype, 'float8'::regtype, 'bytea'::regtype, 'oid'::regtype)\n"
	"         THEN quote_ident(a.attname) ELSE quote_ident(a.attname) || '::text' END AS h\n"
	"  FROM pg_attribute a\n"
	"  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped\n"
	")\n"
	"SELECT 'hash_record_extended(ROW(' || string_agg(h, ', ' ORDER BY attnum) || '), 0)',\n"
	"       coalesce((SELECT '(hash_record_extended(ROW(' ||\n"
	"                   string_agg(quote_ident(a.attname), ', ') || '), 0) & 63)'\n"
	"                 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid\n"
	"                   AND a.attnum = ANY(x.indkey)\n"
	"                 WHERE x.indrelid = $1::regclass AND x.indisprimary), '0'),\n"
	"       coalesce(string_agg(format(', count(*) FILTER (WHERE %I IS NULL) AS null%s',\n"
	"                attname, attnum), '' ORDER BY attnum) FILTER (WHERE attnotnull), ''),\n"
	"       coalesce(string_agg(format(', (SELECT coalesce(sum(null%s), 0) FROM b)', attnum),\n"
	"                '' ORDER BY attnum) FILTER (WHERE attnotnull), ''),\n"
	"       coalesce(array_to_json(array_agg(attname ORDER BY attnum)\n"
	"                FILTER (WHERE attnotnull))::text, '[]')\n"
	"FROM cols";

struct pieces {
	char *hash, *chunk, *nulls, *null_sums;
	json_t *notnull;	/* names of T's NOT NULL columns */
};

static int read_pieces(struct ds_db *db, struct ds_swap *sw, struct pieces *p,
		       struct ds_error *err)
{
	const char *params[] = {sw->qtable};
	PGresult *res = ds_db_query(db, pieces_sql, 1, params, err);

	if (!res)
		return -1;
	p->hash = ds_xstrdup(PQgetvalue(res, 0, 0));
	p->chunk = ds_xstrdup(PQgetvalue(res, 0, 1));
	p->nulls = ds_xstrdup(PQgetvalue(res, 0, 2));
	p->null_sums = ds_xstrdup(PQgetvalue(res, 0, 3));
	p->notnull = json_loads(PQgetvalue(res, 0, 4), 0, NULL);
	PQclear(res);
	return 0;
}

static void pieces_release(struct pieces *p)
{
	free(p->hash);
	free(p->chunk);
	free(p->nulls);
	free(p->null_sums);
	json_decref(p->notnull);
}

/*
 * One row: tables' key and row counts, keys that differ, and the NULLs per column.
 * key is the quoted key column, or NULL to compare the whole tables chunk by chunk.
 */
static char *compare_sql(struct ds_swap *sw, const struct pieces *p, const char *key)
{
	/* clang-format off */
	return ds_xprintf(
		"WITH a AS (\n"
		"  SELECT %1$s AS k, %2$s AS c, count(*) AS n, bit_xor(%3$s) AS h\n"
		"  FROM %4$s GROUP BY 1, 2\n"
		"), b AS (\n"
		"  SELECT %1$s AS k, %2$s AS c, count(*) AS n, bit_xor(%3$s) AS h%6$s\n"
		"  FROM %5$s GROUP BY 1, 2\n"
		/* A union grouped, not a full join: a NULL key matches a NULL key. */
		"), j AS (\n"
		"  SELECT k, c, sum(an) AS an, sum(bn) AS bn, bit_xor(ah) AS ah, bit_xor(bh) AS bh\n"
		"  FROM (SELECT k, c, n AS an, NULL::bigint AS bn, h AS ah, NULL::bigint AS bh FROM a\n"
		"        UNION ALL SELECT k, c, NULL, n, NULL, h FROM b) u\n"
		"  GROUP BY k, c\n"
		"), keys AS (\n"
		"  SELECT k, sum(an) AS an, sum(bn) AS bn,\n"
		"         bool_or(ah IS DISTINCT FROM bh) AS differ FROM j GROUP BY k\n"
		"), common AS (SELECT * FROM keys WHERE an IS NOT NULL AND bn IS NOT NULL)\n"
		"SELECT (SELECT count(*) FROM keys WHERE an IS NOT NULL),\n"
		"       (SELECT count(*) FROM keys WHERE bn IS NOT NULL),\n"
		"       (SELECT count(*) FROM common),\n"
		"       (SELECT coalesce(sum(an), 0) FROM keys), (SELECT coalesce(sum(bn), 0) FROM keys),\n"
		"       (SELECT count(*) FROM common WHERE an <> bn),\n"
		"       (SELECT coalesce(string_agg(format('%%s: %%s/%%s', coalesce(k::text, 'NULL'),\n"
		"          an, bn), ', '), '') FROM (SELECT * FROM common WHERE an <> bn\n"
		"          ORDER BY k LIMIT 5) e),\n"
		"       (SELECT count(*) FROM common WHERE differ),\n"
		"       (SELECT coalesce(string_agg(coalesce(k::text, 'NULL'), ', '), '')\n"
		"        FROM (SELECT * FROM common WHERE differ ORDER BY k LIMIT 5) e),\n"
		"       ARRAY[0%7$s]::bigint[]\n",
		key ? key : "NULL", key ? "0" : p->chunk, p->hash, sw->qtable, sw->qshadow, p->nulls,
		p->null_sums);
	/* clang-format on */
}

static json_t *check_row(const char *name, int passed, const char *detail)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "status", passed ? "passed" : "failed",
			 "detail", detail);
}

static json_t *count_check(PGresult *res, const char *key_column)
{
	long diff = atol(PQgetvalue(res, 0, 5));
	char *d = ds_xprintf("%s rows in %s key%s of the table, %s in %s of the new one; %s in "
			     "both, %ld with different counts%s%s",
			     PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 0), key_column ? "s" : "",
			     PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			     diff, diff ? ": " : "", PQgetvalue(res, 0, 6));
	json_t *row = check_row("row_counts", diff == 0, d);

	free(d);
	return row;
}

static json_t *checksum_check(PGresult *res)
{
	long diff = atol(PQgetvalue(res, 0, 7));
	char *d = ds_xprintf("%ld of %s keys in both differ in their rows%s%s", diff,
			     PQgetvalue(res, 0, 2), diff ? ": " : "", PQgetvalue(res, 0, 8));
	json_t *row = check_row("checksums", diff == 0, d);

	free(d);
	return row;
}

/* NULLs in the new table where the table has NOT NULL: {0,3,0} by column. */
static json_t *not_null_check(PGresult *res, json_t *notnull)
{
	const char *counts = PQgetvalue(res, 0, 9);
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *col, *row;
	char *d;

	/* counts is "{0,n1,n2,...}": the leading 0 keeps the array non-empty. */
	counts = strchr(counts, ',');
	json_array_foreach(notnull, i, col) {
		long n = counts ? atol(counts + 1) : 0;

		if (n)
			ds_buf_addf(&b, "%s%s has %ld NULL%s", b.len ? ", " : "",
				    json_string_value(col), n, n == 1 ? "" : "s");
		counts = counts ? strchr(counts + 1, ',') : NULL;
	}
	d = ds_buf_take(&b);
	row = check_row("not_null", d[0] == 0, d[0] ? d : "no NULLs in the NOT NULL columns");
	free(d);
	return row;
}

static json_t *unique_check(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = {sw->qtable, sw->qshadow};
	PGresult *res = ds_db_query(
		db,
		"SELECT string_agg(substr(d.def, strpos(d.def, ' USING ') + 7), ', ')\n"
		"FROM pg_index x CROSS JOIN LATERAL (SELECT pg_get_indexdef(x.indexrelid) AS def) d\n"
		"WHERE x.indrelid = $1::regclass AND x.indisunique AND NOT EXISTS (\n"
		"  SELECT 1 FROM pg_index y WHERE y.indrelid = $2::regclass AND y.indisunique\n"
		"  AND substr(pg_get_indexdef(y.indexrelid), strpos(pg_get_indexdef(y.indexrelid),\n"
		"      ' USING ')) = substr(d.def, strpos(d.def, ' USING ')))",
		2, params, err);
	json_t *row;
	char *d;

	if (!res)
		return NULL;
	if (PQgetisnull(res, 0, 0)) {
		row = check_row("unique_keys", 1, "every unique key of the table is enforced");
	} else {
		d = ds_xprintf("not enforced on the new table: %s", PQgetvalue(res, 0, 0));
		row = check_row("unique_keys", 0, d);
		free(d);
	}
	PQclear(res);
	return row;
}

/*
 * The checks of the tasks whose target is T, for every key they wrote into T_backfill
 * (their successful runs of backfill --into backfill): the task's own idea of good data.
 * Rows: task, graph, kind, check, sql, key, target.
 */
static const char task_checks_sql[] =
	"SELECT t.name, t.graph, t.key_kind, c->>'name', c->>'sql', r.key, r.target\n"
	"FROM %1$s.tasks t CROSS JOIN jsonb_array_elements(t.checks) c\n"
	"JOIN LATERAL (SELECT DISTINCT r.key, r.target FROM %1$s.runs r\n"
	"              WHERE r.task_id = t.id AND r.state = 'success'\n"
	"                AND to_regclass(r.target) = $2::regclass) r ON true\n"
	"WHERE t.removed_at IS NULL AND to_regclass(t.target) = $1::regclass\n"
	"ORDER BY 1, 4, 6";

/* One task check for one key: 1 passed, 0 failed (why in *why), -1 the query failed. */
static int task_check(struct ds_db *db, PGresult *c, int row, char **why, struct ds_error *err)
{
	const char *kind = PQgetvalue(c, row, 2), *key = PQgetvalue(c, row, 5);
	char *start = ds_key_bound(kind, key, 0), *end = ds_key_bound(kind, key, 1), *sql;
	struct ds_sqlvar vars[] = {
		{"key", key, 0},	 {"task", PQgetvalue(c, row, 0), 0},
		{"target", PQgetvalue(c, row, 6), 1}, {"graph", PQgetvalue(c, row, 1), 0},
		{"key_start", start, 0}, {"key_end", end, 0},
	};
	struct ds_error e = {0};
	PGresult *res = NULL;
	int passed = 0;

	sql = ds_sql_expand(PQgetvalue(c, row, 4), vars, (int)(sizeof(vars) / sizeof(*vars)), &e);
	if (sql)
		res = ds_db_query(db, sql, 0, NULL, &e);
	if (res)
		passed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	*why = ds_xprintf("%s.%s for %s%s%s", PQgetvalue(c, row, 0), PQgetvalue(c, row, 3),
			  key[0] ? key : "its key", res ? "" : ": ", res ? "" : e.message);
	if (e.kind == DS_ERR_CONNECTION)
		*err = e;
	PQclear(res);
	free(sql);
	free(start);
	free(end);
	return e.kind == DS_ERR_CONNECTION ? -1 : passed;
}

static json_t *task_checks(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = {sw->qtable, sw->qshadow};
	char *sql = ds_xprintf(task_checks_sql, db->schema_ident), *why, *d;
	PGresult *c = ds_db_query(db, sql, 2, params, err);
	struct ds_buf failed = DS_BUF_INIT;
	int nfailed = 0, rc = 0;
	json_t *row;

	free(sql);
	if (!c)
		return NULL;
	for (int i = 0; rc >= 0 && i < PQntuples(c); i++) {
		rc = task_check(db, c, i, &why, err);
		if (rc == 0 && nfailed++ < 5)
			ds_buf_addf(&failed, "%s%s", nfailed > 1 ? ", " : "", why);
		free(why);
	}
	d = ds_buf_take(&failed);
	if (rc < 0) {
		row = NULL;
	} else if (nfailed) {
		char *detail = ds_xprintf("%d of %d failed: %s", nfailed, PQntuples(c), d);

		row = check_row("task_checks", 0, detail);
		free(detail);
	} else {
		char *detail = ds_xprintf("%d passed (the checks of the tasks that write the "
					  "table, for the keys they wrote into the new one)",
					  PQntuples(c));

		row = check_row("task_checks", 1, detail);
		free(detail);
	}
	free(d);
	PQclear(c);
	return row;
}

/* The comparison itself: row counts, checksums and NULLs in one statement. */
static json_t *compare(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		       struct ds_error *err)
{
	struct pieces p = {0};
	char *key, *sql;
	PGresult *res;
	json_t *checks, *u, *t;

	if (read_pieces(db, sw, &p, err) < 0)
		return NULL;
	key = key_column ? PQescapeIdentifier(db->conn, key_column, strlen(key_column)) : NULL;
	sql = compare_sql(sw, &p, key);
	res = ds_db_query(db, sql, 0, NULL, err);
	free(sql);
	PQfreemem(key);
	if (!res || !(u = unique_check(db, sw, err))) {
		PQclear(res);
		pieces_release(&p);
		return NULL;
	}
	checks = json_pack("[o, o, o, o]", count_check(res, key_column), checksum_check(res),
			   not_null_check(res, p.notnull), u);
	PQclear(res);
	pieces_release(&p);
	if (!(t = task_checks(db, sw, err))) {
		json_decref(checks);
		return NULL;
	}
	json_array_append_new(checks, t);
	return checks;
}

static int store_checks(struct ds_db *db, struct ds_swap *sw, json_t *checks, long check_ms,
			struct ds_audit *audit, struct ds_error *err)
{
	char id[32], ms[32], *text = json_dumps(checks, JSON_COMPACT), *detail;
	const char *params[] = {id, text, ms};
	char *sql = ds_xprintf("UPDATE %s.swaps SET checks = $2, state = 'checked', checked_at = "
			       "now(), timings = timings || jsonb_build_object('check_ms', "
			       "$3::bigint) WHERE id = $1",
			       db->schema_ident);
	PGresult *res;
	int rc = ds_db_exec(db, "BEGIN", err);

	snprintf(id, sizeof(id), "%lld", sw->id);
	snprintf(ms, sizeof(ms), "%ld", check_ms);
	res = rc == 0 ? ds_db_query(db, sql, 3, params, err) : NULL;
	free(sql);
	free(text);
	rc = res ? 0 : -1;
	PQclear(res);
	if (rc == 0) {
		detail = ds_xprintf("{\"swap\": %lld, \"check_ms\": %ld}", sw->id, check_ms);
		ds_audit_touch(audit, json_loads(detail, 0, NULL));
	rc = ds_audit_ok(db, audit, err);
		free(detail);
	}
	return ds_db_end(db, rc, err);
}

/* The plan's rows as the inventory: what is bound and what happens to it. */
static json_t *inventory(json_t *plan)
{
	json_t *out = json_array(), *row;
	size_t i;

	json_array_foreach(plan, i, row)
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}", "kind",
						     json_object_get(row, "kind"), "name",
						     json_object_get(row, "name"), "when",
						     json_object_get(row, "phase"), "action",
						     json_object_get(row, "action")));
	return out;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

json_t *ds_swap_check(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		      struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = {sw->qtable, sw->qshadow};
	struct timespec t0;
	json_t *checks, *plan, *bound;
	PGresult *oids;
	long ms;

	if (!strcmp(sw->state, "swapped")) {
		ds_error_set(err, DS_ERR_FAILED, "swap %lld of %s is already swapped", sw->id,
			     sw->qtable);
		return ds_error_hint(err, "'swap-table rollback' or 'swap-table finish'"), NULL;
	}
	oids = ds_db_query(db, "SELECT $1::regclass::oid, $2::regclass::oid", 2, params, err);
	if (!oids)
		return NULL;
	plan = ds_swap_plan(db, PQgetvalue(oids, 0, 0), PQgetvalue(oids, 0, 1), err);
	PQclear(oids);
	if (!plan)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	checks = compare(db, sw, key_column, err);
	ms = elapsed_ms(&t0);
	if (!checks || store_checks(db, sw, checks, ms, audit, err) < 0) {
		json_decref(checks);
		json_decref(plan);
		return NULL;
	}
	bound = inventory(plan);
	json_decref(plan);
	return json_pack("{s:I, s:s, s:i, s:o, s:o}", "swap", (json_int_t)sw->id, "state",
			 "checked", "check_ms", (int)ms, "checks", checks, "inventory", bound);
}
