/*
 * swap_start.c: starting a swap: the incoming table (T_backfill, or T_v2 in mode v2),
 * made like T or by the user's SQL, and its row in the journal, in one transaction.
 *
 * Uses the journal (swap_journal.c) and, in mode v2, the plan (swap_catalog.c) to copy
 * onto T_v2 what readers of T rely on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "swap.h"
#include "util.h"

/* Another swap of the same table is under way: say whose, and refuse. */
static int refuse_second(struct ds_db *db, const struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->schema, sw->table, sw->connection };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_JOURNAL_ACTIVE, 3, params, err);
	int rc = 0;

	if (!res)
		return -1;
	if (PQntuples(res)) {
		ds_error_set(err, DS_ERR_FAILED,
			     "table '%s' already has swap %s, started by %s at %s (%s)", sw->table,
			     PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6),
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
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_MISSING_COLUMNS, 2, params, err);
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
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_TABLE_KIND, 1, params, err);
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
	const char *params[] = { sw->qtable, sw->qshadow };
	PGresult *res;
	int made;

	if (ds_db_exec(db, create_sql, err) < 0)
		return -1;
	res = ds_sql_query(db, DS_SQL_SWAP_TABLE_OIDS, 2, params, err);
	if (!res)
		return -1;
	made = !PQgetisnull(res, 0, 1);
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

/*
 * Mode v2: copy onto T_v2 what a swap copies before its lock (grants, row level
 * security, policies, triggers, comments, foreign keys), so readers can move to it. In
 * start's transaction, whose search_path it empties for the plan and then puts back.
 */
static int copy_bindings(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->qtable, sw->qshadow };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_TABLE_OIDS, 2, params, err);
	char *search_path = NULL;
	json_t *plan = NULL;
	int rc;

	if (!res)
		return -1;
	/* Names in the plan are schema-qualified with the search_path empty. */
	rc = ds_swap_settings(db, -1, -1, &search_path, err);
	if (rc == 0 &&
	    !(plan = ds_swap_plan_rows(db, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), err)))
		rc = -1;
	/* Not the sequence (ord 17): both tables draw from T's until finish hands it over. */
	if (rc == 0)
		rc = ds_swap_run_phase(db, plan, "prepare", 0, 17, err);
	if (rc == 0)
		rc = ds_swap_run_phase(db, plan, "prepare", 18, 1000, err);
	json_decref(plan);
	if (rc == 0)
		rc = ds_swap_restore_search_path(db, search_path, err);
	free(search_path);
	PQclear(res);
	return rc;
}

/*
 * The id of the swap about to start, from the journal's sequence: a swap on a connection
 * writes its row in the warehouse first, under the same id.
 */
static int next_id(struct ds_swap *sw, char id[static 32], struct ds_error *err)
{
	const char *params[] = { sw->journal->schema };
	PGresult *res = ds_sql_query(sw->journal, DS_SQL_SWAP_JOURNAL_NEXT_ID, 1, params, err);

	if (!res)
		return -1;
	snprintf(id, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * What the journal keeps in timings from the start: the mode, and on a connection
 * whether T's name alone names it there (core/sql/swap/bare_name.sql), for the claim to
 * tell the tasks that write it. Caller frees.
 */
static char *start_timings(struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->schema, sw->table };
	json_t *timings = json_object();
	char *text;

	if (sw->v2)
		json_object_set_new(timings, "mode", json_string("v2"));
	if (sw->connection) {
		PGresult *res = ds_sql_query(sw->db, DS_SQL_SWAP_BARE_NAME, 2, params, err);

		if (!res) {
			json_decref(timings);
			return NULL;
		}
		json_object_set_new(timings, "bare", json_boolean(PQgetvalue(res, 0, 0)[0] == 't'));
		PQclear(res);
	}
	text = json_dumps(timings, JSON_COMPACT);
	json_decref(timings);
	return text;
}

/*
 * Create the shadow table and its journal row (on a connection, the warehouse's copy of
 * it); runs inside the caller's transaction on T's database.
 */
static int start_in_transaction(struct ds_swap *sw, const char *id, const char *create_sql,
				struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = { id,	  sw->schema, sw->table,     sw->shadow,
				 sw->old, NULL,	      sw->connection };
	const char *like[] = { sw->schema, sw->shadow, sw->table };
	struct ds_db *db = sw->db;
	char *timings;
	PGresult *res;

	if (refuse_second(db, sw, err) < 0)
		return -1;
	if (create_sql) {
		if (run_create_sql(db, sw, create_sql, err) < 0)
			return -1;
	} else if (ds_db_exec_rows(db, ds_sql_query(db, DS_SQL_SWAP_CREATE_LIKE, 3, like, err),
				   err) < 0) {
		return -1;
	}
	if (sw->v2 && copy_bindings(db, sw, err) < 0)
		return -1;
	params[5] = timings = start_timings(sw, err);
	res = timings ? ds_sql_query(db, DS_SQL_SWAP_JOURNAL_START, 7, params, err) : NULL;
	free(timings);
	if (!res)
		return -1;
	sw->id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	/* Mode v2 swaps nothing, so no write to T can be lost by a swap. */
	if (!sw->v2 && ds_swap_log_writes(db, sw, err) < 0)
		return -1;
	ds_audit_touch(audit, json_pack("{s:I}", "swap", (json_int_t)sw->id));
	return ds_swap_record(sw, NULL, NULL, audit, err);
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
	ds_swap_fill_names(db, sw);
	if (strlen(sw->shadow) > 63)
		return ds_error_set(err, DS_ERR_FAILED,
				    "the name '%s' is too long for PostgreSQL (63 bytes)",
				    sw->shadow);
	return 0;
}

static json_t *swap_json(const struct ds_swap *sw)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s?}", "swap", (json_int_t)sw->id,
			 "schema", sw->schema, "table", sw->table, "shadow", sw->shadow, "old",
			 sw->old, "state", sw->state, "mode", sw->v2 ? "v2" : "swap", "connection",
			 sw->connection);
}

json_t *ds_swap_start(struct ds_db *db, const char *table, const char *connection,
		      const char *create_sql, int v2, int dry_run, struct ds_audit *audit,
		      struct ds_error *err)
{
	struct ds_swap sw = { .v2 = v2 };
	json_t *out = NULL;
	char id[32];
	PGresult *t;
	int rc;

	if (ds_swap_connect(db, connection, &sw, err) < 0 ||
	    !(t = ds_swap_resolve_table(sw.db, table, err))) {
		ds_swap_release(&sw);
		return NULL;
	}
	rc = derive_names(sw.db, &sw, t, err);
	PQclear(t);
	if (rc == 0)
		rc = require_plain(sw.db, sw.qtable, err);
	if (rc == 0)
		rc = next_id(&sw, id, err);
	if (rc == 0 && ds_db_exec(sw.db, "BEGIN", err) == 0) {
		rc = start_in_transaction(&sw, id, create_sql, audit, err);
		/* A dry run does all of it, to report what would fail, then undoes it. */
		if (dry_run) {
			ds_db_rollback(sw.db);
			sw.id = 0;
		} else {
			rc = ds_swap_commit(&sw, rc, NULL, audit, err);
		}
		if (rc == 0) {
			out = swap_json(&sw);
			json_object_set_new(out, "dry_run", json_boolean(dry_run));
		}
	}
	ds_swap_release(&sw);
	return out;
}
