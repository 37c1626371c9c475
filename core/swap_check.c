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
 * catalog: a unique index on T_backfill enforces its key, so no scan is needed. Row
 * counts fail when T has keys T_backfill lacks (the swap would lose their rows); keys
 * only T_backfill has are named and fail nothing.
 *
 * The snapshot the tables were read in is journaled: a write to T that it does not see
 * is after the check, and the swap refuses while one is not in T_backfill (swap_tx.c).
 *
 * The statements that read the tables are built by the server from their columns
 * (core/sql/swap/check_statements.sql says how rows are hashed); the others are
 * core/sql/swap/check_*.sql. Uses the journal (swap_journal.c) and the plan
 * (swap_catalog.c).
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
 * The statements of the comparison, built by the server from the columns of T and
 * T_backfill (core/sql/swap/check_statements.sql): each table's totals, and the
 * comparison key by key for when they differ; the names of T's NOT NULL columns.
 */
struct comparison {
	char *prod_totals, *incoming_totals, *by_key;
	json_t *notnull; /* names of T's NOT NULL columns */
};

/* The statements; key_column, if not NULL, must be a column of T. */
static int read_comparison(struct ds_db *db, struct ds_swap *sw, const char *key_column,
			   struct comparison *p, struct ds_error *err)
{
	const char *params[] = { sw->schema, sw->table, sw->shadow, key_column };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_CHECK_STATEMENTS, 4, params, err);

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
	p->prod_totals = ds_xstrdup(PQgetvalue(res, 0, 0));
	p->incoming_totals = ds_xstrdup(PQgetvalue(res, 0, 1));
	p->by_key = ds_xstrdup(PQgetvalue(res, 0, 2));
	p->notnull = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
	PQclear(res);
	return 0;
}

static void comparison_release(struct comparison *p)
{
	free(p->prod_totals);
	free(p->incoming_totals);
	free(p->by_key);
	json_decref(p->notnull);
}

static json_t *check_row(const char *name, int passed, const char *detail)
{
	return json_pack("{s:s, s:s, s:s}", "name", name, "status", passed ? "passed" : "failed",
			 "detail", detail);
}

/*
 * Row counts fail when a key in both has another count in the new table, and when the
 * table has keys the new one lacks: the swap would lose their rows. Keys only the new
 * table has are said, and fail nothing (a rebuild may well reach further back).
 */
static json_t *count_check(PGresult *res, const char *key_column)
{
	long diff = atol(PQgetvalue(res, 0, 5)), lost = atol(PQgetvalue(res, 0, 9));
	long added = atol(PQgetvalue(res, 0, 11));
	const char *unit = key_column ? "key" : "chunk";
	struct ds_buf b = DS_BUF_INIT;
	json_t *row;
	char *d;

	ds_buf_addf(&b,
		    "%s rows in %s key%s of the table, %s in %s of the new one; %s in both, "
		    "%ld with different counts%s%s",
		    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 0), key_column ? "s" : "",
		    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), diff,
		    diff ? ": " : "", PQgetvalue(res, 0, 6));
	if (lost)
		ds_buf_addf(&b,
			    "; %ld %s%s only in the table, whose rows the swap would lose: %s%s",
			    lost, unit, lost == 1 ? "" : "s", PQgetvalue(res, 0, 10),
			    lost > 5 ? " (the first 5)" : "");
	if (added)
		ds_buf_addf(&b, "; %ld %s%s only in the new one: %s%s", added, unit,
			    added == 1 ? "" : "s", PQgetvalue(res, 0, 12),
			    added > 5 ? " (the first 5)" : "");
	d = ds_buf_take(&b);
	row = check_row("row_counts", diff == 0 && lost == 0, d);
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
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_CHECK_UNIQUE_KEYS, 2, params, err);
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
	/* The checks of the tasks that write T, for the keys they wrote into T_backfill. */
	PGresult *c = ds_swap_query(sw->journal, sw, DS_SQL_SWAP_CHECK_TASK_CHECKS, 2, extra, err);
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
static json_t *row_checks(struct ds_db *db, const struct comparison *p, PGresult *a, PGresult *b,
			  const char *key_column, struct ds_error *err)
{
	PGresult *res;
	json_t *rows;

	if (same_totals(a, b))
		return same_rows_checks(a, key_column);
	res = ds_db_query(db, p->by_key, 0, NULL, err);
	if (!res)
		return NULL;
	rows = json_pack("[o, o]", count_check(res, key_column), checksum_check(res));
	PQclear(res);
	return rows;
}

/*
 * Both tables are read in one snapshot, so that a run writing both (mode v2) while the
 * check runs is seen in both or in neither; with JIT's optimization where JIT is used
 * (core/sql/swap/check_settings.sql says why). The snapshot, as text, in *snapshot
 * (caller frees): writes to T that it does not see are not covered by the check.
 */
static int compare_begin(struct ds_db *db, char **snapshot, struct ds_error *err)
{
	PGresult *res;

	if (ds_db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
		return -1;
	res = ds_sql_query(db, DS_SQL_SWAP_CHECK_SETTINGS, 0, NULL, err);
	if (!res) {
		ds_db_rollback(db);
		return -1;
	}
	*snapshot = ds_xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/* The comparison itself: row counts, checksums, NULLs and unique keys. */
static json_t *compare(struct ds_db *db, struct ds_swap *sw, const char *key_column,
		       char **snapshot, struct ds_error *err)
{
	struct comparison p = { 0 };
	PGresult *a = NULL, *b = NULL;
	json_t *checks = NULL, *u = NULL;

	if (read_comparison(db, sw, key_column, &p, err) < 0)
		return NULL;
	if (compare_begin(db, snapshot, err) < 0) {
		comparison_release(&p);
		return NULL;
	}
	if ((a = ds_db_query(db, p.prod_totals, 0, NULL, err)) &&
	    (b = ds_db_query(db, p.incoming_totals, 0, NULL, err)) &&
	    (checks = row_checks(db, &p, a, b, key_column, err)) &&
	    (u = unique_check(db, sw, err))) {
		json_array_append_new(checks, not_null_check(b, p.notnull));
		json_array_append_new(checks, u);
	} else {
		json_decref(checks);
		checks = NULL;
	}
	PQclear(a);
	PQclear(b);
	comparison_release(&p);
	if (ds_db_end(db, checks ? 0 : -1, err) < 0) {
		json_decref(checks);
		return NULL;
	}
	return checks;
}

/*
 * The comparison and the tasks' checks, in the order status and swap show them; the
 * comparison's snapshot in *snapshot (caller frees).
 */
static json_t *all_checks(struct ds_db *db, struct ds_swap *sw, const char *key_column,
			  char **snapshot, struct ds_error *err)
{
	json_t *checks = compare(db, sw, key_column, snapshot, err), *t;

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
			const char *snapshot, struct ds_audit *audit, struct ds_error *err)
{
	char ms[32], *text = json_dumps(checks, JSON_COMPACT);
	const char *extra[] = { text, ms, snapshot };
	PGresult *res;
	int rc = ds_db_exec(db, "BEGIN", err);

	snprintf(ms, sizeof(ms), "%ld", check_ms);
	res = rc == 0 ? ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_CHECKS, 3, extra, err) : NULL;
	free(text);
	rc = res ? 0 : -1;
	PQclear(res);
	if (rc == 0) {
		ds_audit_touch(audit, json_pack("{s:I, s:I}", "swap", (json_int_t)sw->id,
						"check_ms", (json_int_t)check_ms));
		rc = ds_swap_record(sw, NULL, NULL, audit, err);
	}
	return ds_swap_commit(sw, rc, NULL, audit, err);
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

/*
 * The write log on both tables before they are compared, for a swap an older datashell
 * started (start puts it there): writes from then on that the comparison does not see
 * are told apart at the swap. Mode v2 swaps nothing and has none.
 */
static int put_write_log(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	if (sw->v2)
		return 0;
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	return ds_db_end(db, ds_swap_log_writes(db, sw, err), err);
}

json_t *ds_swap_check(struct ds_swap *sw, const char *key_column, struct ds_audit *audit,
		      struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow };
	struct ds_db *db = sw->db;
	double t0;
	json_t *checks, *plan, *bound;
	PGresult *oids;
	char *snapshot = NULL;
	long ms;

	if (!strcmp(sw->state, "swapped")) {
		ds_error_set(err, DS_ERR_FAILED, "swap %lld of %s is already swapped", sw->id,
			     sw->qtable);
		return ds_error_hint(err, "'swap-table rollback' or 'swap-table finish'"), NULL;
	}
	oids = ds_sql_query(db, DS_SQL_SWAP_TABLE_OIDS, 2, params, err);
	if (!oids)
		return NULL;
	if (PQgetisnull(oids, 0, 0) || PQgetisnull(oids, 0, 1)) {
		ds_error_set(err, DS_ERR_FAILED, "table %s does not exist",
			     PQgetisnull(oids, 0, 0) ? sw->qtable : sw->qshadow);
		PQclear(oids);
		return ds_error_hint(err, "'swap-table status' says where the swap stands"), NULL;
	}
	plan = ds_swap_plan(db, PQgetvalue(oids, 0, 0), PQgetvalue(oids, 0, 1), 0, err);
	PQclear(oids);
	if (!plan || put_write_log(db, sw, err) < 0) {
		json_decref(plan);
		return NULL;
	}
	t0 = ds_monotonic();
	checks = all_checks(db, sw, key_column, &snapshot, err);
	ms = (long)((ds_monotonic() - t0) * 1000.0);
	if (!checks || store_checks(db, sw, checks, ms, snapshot, audit, err) < 0) {
		free(snapshot);
		json_decref(checks);
		json_decref(plan);
		return NULL;
	}
	free(snapshot);
	bound = inventory(sw, plan);
	json_decref(plan);
	return json_pack("{s:I, s:s, s:i, s:o, s:o}", "swap", (json_int_t)sw->id, "state",
			 "checked", "check_ms", (int)ms, "checks", checks, "inventory", bound);
}
