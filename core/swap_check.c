/*
 * swap_check.c: validating T_backfill against T before the swap.
 *
 * The comparison hashes every row of both tables from its values (each column with its
 * type's own hash function, not through its text form) and reads each table once, in
 * one statement that lets PostgreSQL scan them in parallel: per table the row count and
 * the sum of the row hashes (a multiset checksum: equal sums mean the same rows, each
 * as often), and the NULLs of T's NOT NULL columns in T_backfill. When the tables hold
 * the same rows, every key has the same count in both and nothing more is read. Only
 * when they differ does a second, grouped statement find which keys (the value of the
 * key column, or else a chunk of the primary key) differ in count or in rows, so a
 * check that passes costs one scan of each table. Unique keys are compared in the
 * catalog: a unique index on T_backfill enforces its key, so no scan is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "key.h"
#include "sqlvars.h"
#include "swap.h"
#include "util.h"

/*
 * The expressions the comparison hashes and groups by, built by the server from the
 * columns of T ($1) and T_backfill ($2): the hash of a row, the chunk of the primary
 * key, the NULL counts of T's NOT NULL columns and their names.
 *
 * A row's hash is the xor of its columns' hashes, each seeded with the column's
 * position so that equal values in two columns do not cancel. A column is hashed by
 * the extended hash function of its type's default hash operator class, called
 * directly when it takes the type. The function of date, boolean and timestamptz takes
 * a binary-compatible type that SQL cannot pass them as: they are converted, exactly,
 * to one it takes. Other such types (bytea) go through hash_array_extended() of a
 * one-element array, slower; types with no hash function (json, point, money), and
 * columns the two tables give different types, are hashed as text. coalesce() gives
 * NULL its own hash, and is left out for columns NOT NULL in both tables.
 */
static const char pieces_sql[] =
	"WITH cols AS (\n"
	"  SELECT a.attname, a.attnum, a.attnotnull,\n"
	"         a.attnotnull AND coalesce(b.attnotnull, false) AS notnull_both,\n"
	"         a.atttypid IS NOT DISTINCT FROM b.atttypid AS same_type, bt.oid AS base,\n"
	"         (SELECT p.amproc FROM pg_opclass o\n"
	"            JOIN pg_am m ON m.oid = o.opcmethod AND m.amname = 'hash'\n"
	"            JOIN pg_amproc p ON p.amprocfamily = o.opcfamily AND p.amprocnum = 2\n"
	"              AND p.amproclefttype = o.opcintype AND p.amprocrighttype = o.opcintype\n"
	"          WHERE o.opcdefault AND (o.opcintype = bt.oid\n"
	"                OR (o.opcintype = 'anyenum'::regtype AND bt.typtype = 'e'))) AS fn\n"
	"  FROM pg_attribute a\n"
	"  JOIN pg_type t ON t.oid = a.atttypid\n"
	"  JOIN pg_type bt ON bt.oid = CASE t.typtype WHEN 'd' THEN t.typbasetype ELSE t.oid END\n"
	"  LEFT JOIN pg_attribute b ON b.attrelid = $2::regclass AND b.attname = a.attname\n"
	"    AND b.attnum > 0 AND NOT b.attisdropped\n"
	"  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped\n"
	"), hashes AS (\n"
	"  SELECT c.*, CASE\n"
	"      WHEN NOT same_type OR fn IS NULL\n"
	"        THEN format('hashtextextended(%I::text, %s)', attname, attnum)\n"
	"      WHEN base = 'date'::regtype\n"
	"        THEN format('timestamp_hash_extended(%I::timestamp, %s)', attname, attnum)\n"
	"      WHEN base = 'timestamptz'::regtype THEN format(\n"
	"        'timestamp_hash_extended(%I AT TIME ZONE ''UTC'', %s)', attname, attnum)\n"
	"      WHEN base = 'boolean'::regtype\n"
	"        THEN format('hashint4extended(%I::integer, %s)', attname, attnum)\n"
	"      WHEN (SELECT proargtypes[0] FROM pg_proc WHERE oid = fn)\n"
	"           IN (base, 'anyenum'::regtype)\n"
	"        THEN format('%s(%I, %s)', fn::regproc, attname, attnum)\n"
	"      ELSE format('hash_array_extended(ARRAY[%I::%s], %s)', attname, base::regtype,\n"
	"                  attnum)\n"
	"    END AS h\n"
	"  FROM cols c\n"
	")\n"
	"SELECT string_agg(CASE WHEN notnull_both THEN h\n"
	"                       ELSE format('coalesce(%s, %s)', h, -attnum) END,\n"
	"                  ' # ' ORDER BY attnum),\n"
	"       coalesce((SELECT '(hash_record_extended(ROW(' ||\n"
	"                   string_agg(quote_ident(a.attname), ', ') || '), 0) & 63)'\n"
	"                 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid\n"
	"                   AND a.attnum = ANY(x.indkey)\n"
	"                 WHERE x.indrelid = $1::regclass AND x.indisprimary), '0'),\n"
	"       coalesce(string_agg(format(', count(*) - count(%I)', attname), ''\n"
	"                ORDER BY attnum) FILTER (WHERE attnotnull), ''),\n"
	"       coalesce(array_to_json(array_agg(attname ORDER BY attnum)\n"
	"                FILTER (WHERE attnotnull))::text, '[]'),\n"
	"       $3::text IS NULL OR bool_or(attname = $3)\n"
	"FROM hashes";

struct pieces {
	char *hash, *chunk, *nulls;
	json_t *notnull; /* names of T's NOT NULL columns */
};

/* The pieces; key_column, if not NULL, must be a column of T. */
static int read_pieces(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		       struct pieces *p, struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow, key_column };
	PGresult *res = ds_db_query(db, pieces_sql, 3, params, err);

	if (!res)
		return -1;
	if (PQgetvalue(res, 0, 4)[0] != 't') {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "--key: no column '%s' in %s", key_column,
			     sw->qtable);
		return ds_error_hint(err, "name a column of the table, or leave --key out to "
					  "compare chunks of the primary key"),
		       -1;
	}
	p->hash = ds_xstrdup(PQgetvalue(res, 0, 0));
	p->chunk = ds_xstrdup(PQgetvalue(res, 0, 1));
	p->nulls = ds_xstrdup(PQgetvalue(res, 0, 2));
	p->notnull = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
	PQclear(res);
	return 0;
}

static void pieces_release(struct pieces *p)
{
	free(p->hash);
	free(p->chunk);
	free(p->nulls);
	json_decref(p->notnull);
}

/*
 * One table read once: its row count, checksum and, with nulls, the NULLs of T's NOT
 * NULL columns ({0,n1,n2,...}), each a partial aggregate that parallel workers share.
 * One statement per table, not a UNION ALL: for that the planner gives each table a
 * single process.
 */
static PGresult *table_totals(struct ds_db *db, const char *qname, const struct pieces *p,
			      int nulls, struct ds_error *err)
{
	char *sql = ds_xprintf("SELECT count(*), sum(%s), ARRAY[0%s]::bigint[] FROM %s", p->hash,
			       nulls ? p->nulls : "", qname);
	PGresult *res = ds_db_query(db, sql, 0, NULL, err);

	free(sql);
	return res;
}

/*
 * When the totals differ, one row: tables' key and row counts, keys that differ. key is
 * the quoted key column, or NULL to compare the whole tables chunk by chunk.
 */
static char *by_key_sql(struct ds_swap *sw, const struct pieces *p, const char *key)
{
	/* clang-format off */
	return ds_xprintf(
		"WITH a AS (\n"
		"  SELECT %1$s AS k, %2$s AS c, count(*) AS n, sum(%3$s) AS h\n"
		"  FROM %4$s GROUP BY 1, 2\n"
		"), b AS (\n"
		"  SELECT %1$s AS k, %2$s AS c, count(*) AS n, sum(%3$s) AS h\n"
		"  FROM %5$s GROUP BY 1, 2\n"
		/* A union grouped, not a full join: a NULL key matches a NULL key. */
		"), j AS (\n"
		"  SELECT k, c, sum(an) AS an, sum(bn) AS bn, sum(ah) AS ah, sum(bh) AS bh\n"
		"  FROM (SELECT k, c, n AS an, NULL::bigint AS bn, h AS ah, NULL::numeric AS bh FROM a\n"
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
		"        FROM (SELECT * FROM common WHERE differ ORDER BY k LIMIT 5) e)\n",
		key ? key : "NULL", key ? "0" : p->chunk, p->hash, sw->qtable, sw->qshadow);
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

/* Whether both tables have the same number of rows and the same checksum. */
static int same_totals(PGresult *a, PGresult *b)
{
	return !strcmp(PQgetvalue(a, 0, 0), PQgetvalue(b, 0, 0)) &&
	       !strcmp(PQgetvalue(a, 0, 1), PQgetvalue(b, 0, 1));
}

/* Both checks passed on the totals alone: the same rows, so the same count per key. */
static json_t *same_rows_checks(PGresult *totals, const char *key_column)
{
	const char *n = PQgetvalue(totals, 0, 0);
	char *counts = ds_xprintf("%s rows in the table and in the new one, the same rows: the "
				  "same count for every %s",
				  n, key_column ? "key" : "chunk");
	char *sums = ds_xprintf("the checksums of all %s rows agree", n);
	json_t *rows = json_pack("[o, o]", check_row("row_counts", 1, counts),
				 check_row("checksums", 1, sums));

	free(counts);
	free(sums);
	return rows;
}

/* NULLs in the new table where the table has NOT NULL: {0,3,0} by column. */
static json_t *not_null_check(PGresult *totals, json_t *notnull)
{
	const char *counts = PQgetvalue(totals, 0, 2);
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *col, *row;
	char *d;

	/* counts is "{0,n1,n2,...}": the leading 0 keeps the array non-empty. */
	counts = strchr(counts, ',');
	json_array_foreach(notnull, i, col)
	{
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
	const char *params[] = { sw->qtable, sw->qshadow };
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
		row = check_row("unique_keys", 1,
				"every unique key of the table is enforced by a unique index on "
				"the new one (so its rows need no scan)");
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
 * (their successful runs of backfill --into backfill; in mode v2, their runs since
 * the start, which wrote T_v2 too): the task's own idea of good data. $1 is the
 * swap, $2 T, $3 T_backfill. Rows: task, graph, kind, check, sql, key, target.
 */
static const char task_checks_sql[] =
	"WITH v2 AS (SELECT started_at, table_schema || '.' || shadow_name AS shadow\n"
	"            FROM %1$s.swaps WHERE id = $1 AND timings->>'mode' = 'v2')\n"
	"SELECT t.name, t.graph, t.key_kind, c->>'name', c->>'sql', r.key, r.target\n"
	"FROM %1$s.tasks t CROSS JOIN jsonb_array_elements(t.checks) c\n"
	"JOIN LATERAL (SELECT DISTINCT r.key, coalesce(r.target, (SELECT shadow FROM v2))\n"
	"                AS target FROM %1$s.runs r\n"
	"              WHERE r.task_id = t.id AND r.state = 'success'\n"
	"                AND (to_regclass(r.target) = to_regclass($3)\n"
	"                     OR (r.target IS NULL\n"
	"                         AND r.finished_at >= (SELECT started_at FROM v2)))) r ON true\n"
	"WHERE t.removed_at IS NULL AND to_regclass(t.target) = to_regclass($2)\n"
	"ORDER BY 1, 4, 6";

/* One task check for one key: 1 passed, 0 failed (why in *why), -1 the query failed. */
static int task_check(struct ds_db *db, PGresult *c, int row, char **why, struct ds_error *err)
{
	const char *kind = PQgetvalue(c, row, 2), *key = PQgetvalue(c, row, 5);
	char *start = ds_key_bound(kind, key, 0), *end = ds_key_bound(kind, key, 1), *sql;
	struct ds_sqlvar vars[] = {
		{ "key", key, 0 },
		{ "task", PQgetvalue(c, row, 0), 0 },
		{ "target", PQgetvalue(c, row, 6), 1 },
		{ "graph", PQgetvalue(c, row, 1), 0 },
		{ "key_start", start, 0 },
		{ "key_end", end, 0 },
	};
	struct ds_error e = { 0 };
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
	const char *extra[] = { sw->qtable, sw->qshadow };
	struct ds_buf failed = DS_BUF_INIT;
	int nfailed = 0, rc = 0;
	PGresult *c = ds_swap_query(db, sw, task_checks_sql, 2, extra, err);
	char *why, *d;
	json_t *row;

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

/* Row counts and checksums: from the totals when they agree, else key by key. */
static json_t *row_checks(struct ds_db *db, struct ds_swap *sw, const struct pieces *p, PGresult *a,
			  PGresult *b, const char *key_column, struct ds_error *err)
{
	char *key, *sql;
	PGresult *res;
	json_t *rows;

	if (same_totals(a, b))
		return same_rows_checks(a, key_column);
	key = key_column ? PQescapeIdentifier(db->conn, key_column, strlen(key_column)) : NULL;
	sql = by_key_sql(sw, p, key);
	res = ds_db_query(db, sql, 0, NULL, err);
	free(sql);
	PQfreemem(key);
	if (!res)
		return NULL;
	rows = json_pack("[o, o]", count_check(res, key_column), checksum_check(res));
	PQclear(res);
	return rows;
}

/*
 * Both tables are read in one snapshot, so that a run writing both (mode v2) while the
 * check runs is seen in both or in neither. A scan big enough for JIT (by the server's
 * jit_above_cost) gets its code optimized too, which pays for itself when every row is
 * hashed (a quarter off at 10 million rows); inlining would not (its compile time).
 */
static const char compare_begin[] =
	"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
	"SELECT set_config('jit_optimize_above_cost', current_setting('jit_above_cost'), true)";

/* The comparison itself: row counts, checksums, NULLs and unique keys. */
static json_t *compare(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		       struct ds_error *err)
{
	struct pieces p = { 0 };
	PGresult *a = NULL, *b = NULL;
	json_t *checks = NULL, *u = NULL;

	if (read_pieces(db, sw, key_column, &p, err) < 0)
		return NULL;
	if (ds_db_exec(db, compare_begin, err) < 0) {
		pieces_release(&p);
		return NULL;
	}
	if ((a = table_totals(db, sw->qtable, &p, 0, err)) &&
	    (b = table_totals(db, sw->qshadow, &p, 1, err)) &&
	    (checks = row_checks(db, sw, &p, a, b, key_column, err)) &&
	    (u = unique_check(db, sw, err))) {
		json_array_append_new(checks, not_null_check(b, p.notnull));
		json_array_append_new(checks, u);
	} else {
		json_decref(checks);
		checks = NULL;
	}
	PQclear(a);
	PQclear(b);
	pieces_release(&p);
	if (ds_db_end(db, checks ? 0 : -1, err) < 0) {
		json_decref(checks);
		return NULL;
	}
	return checks;
}

/* The comparison and the tasks' checks, in the order status and swap show them. */
static json_t *all_checks(struct ds_db *db, struct ds_swap *sw, const char *key_column,
			  struct ds_error *err)
{
	json_t *checks = compare(db, sw, key_column, err), *t;

	if (!checks)
		return NULL;
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
	char ms[32], *text = json_dumps(checks, JSON_COMPACT);
	const char *extra[] = { text, ms };
	PGresult *res;
	int rc = ds_db_exec(db, "BEGIN", err);

	snprintf(ms, sizeof(ms), "%ld", check_ms);
	res = rc == 0 ? ds_swap_query(db, sw,
				      "UPDATE %s.swaps SET checks = $2, accepted = '[]', "
				      "state = 'checked', checked_at = now(), timings = timings || "
				      "jsonb_build_object('check_ms', $3::bigint) WHERE id = $1",
				      2, extra, err)
		      : NULL;
	free(text);
	rc = res ? 0 : -1;
	PQclear(res);
	if (rc == 0) {
		ds_audit_touch(audit, json_pack("{s:I, s:I}", "swap", (json_int_t)sw->id,
						"check_ms", (json_int_t)check_ms));
		rc = ds_audit_ok(db, audit, err);
	}
	return ds_db_end(db, rc, err);
}

/*
 * Mode v2 swaps nothing: of the plan, what T_v2 still lacks (a grant given after the
 * start, say) and what reads T, which its owners move to T_v2 before finish. NULL for
 * rows that do not matter then (index and sequence names, validations after a swap).
 */
static json_t *v2_inventory_row(const struct ds_swap *sw, json_t *row)
{
	const char *phase = json_string_value(json_object_get(row, "phase"));
	const char *kind = json_string_value(json_object_get(row, "kind"));
	json_t *out;
	char *action;

	if (!strcmp(phase, "prepare"))
		action = ds_xprintf("%s lacks it (start copied what there was): copy it by hand",
				    sw->shadow);
	else if (!strcmp(phase, "swap") && strcmp(kind, "index") && strcmp(kind, "sequence"))
		action = ds_xprintf("uses %s: point it at %s before finish", sw->table, sw->shadow);
	else
		return NULL;
	out = json_pack("{s:O, s:O, s:s, s:s}", "kind", json_object_get(row, "kind"), "name",
			json_object_get(row, "name"), "when", "before finish", "action", action);
	free(action);
	return out;
}

/* The plan's rows as the inventory: what is bound and what happens to it. */
static json_t *inventory(const struct ds_swap *sw, json_t *plan)
{
	json_t *out = json_array(), *row, *v2;
	size_t i;

	json_array_foreach(plan, i, row)
	{
		if (sw->v2) {
			if ((v2 = v2_inventory_row(sw, row)))
				json_array_append_new(out, v2);
			continue;
		}
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}", "kind",
						     json_object_get(row, "kind"), "name",
						     json_object_get(row, "name"), "when",
						     json_object_get(row, "phase"), "action",
						     json_object_get(row, "action")));
	}
	return out;
}

json_t *ds_swap_check(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		      struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow };
	double t0;
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
	plan = ds_swap_plan(db, PQgetvalue(oids, 0, 0), PQgetvalue(oids, 0, 1), 0, err);
	PQclear(oids);
	if (!plan)
		return NULL;
	t0 = ds_monotonic();
	checks = all_checks(db, sw, key_column, err);
	ms = (long)((ds_monotonic() - t0) * 1000.0);
	if (!checks || store_checks(db, sw, checks, ms, audit, err) < 0) {
		json_decref(checks);
		json_decref(plan);
		return NULL;
	}
	bound = inventory(sw, plan);
	json_decref(plan);
	return json_pack("{s:I, s:s, s:i, s:o, s:o}", "swap", (json_int_t)sw->id, "state",
			 "checked", "check_ms", (int)ms, "checks", checks, "inventory", bound);
}
