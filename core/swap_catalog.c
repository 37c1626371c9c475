/*
 * swap_catalog.c: what PostgreSQL binds to a table, read from its catalog, and the
 * statements that move each thing from the production table to the incoming one.
 *
 * One query is the single source of truth (core/sql/swap/plan.sql): check shows its
 * rows as the inventory, swap runs the "prepare" rows before the lock, the "swap" rows
 * inside it and keeps the "after" rows in the journal. It runs with an empty
 * search_path, so every name it prints (regclass, view and function definitions) is
 * schema-qualified and means the same thing when the statements run, after the
 * renames: a definition that says public.orders then reads the incoming table.
 *
 * This file reads the plan and runs its statements; it knows nothing of the journal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swap.h"
#include "util.h"

int ds_swap_settings(struct ds_db *db, long lock_timeout_ms, long statement_timeout_ms, char **old,
		     struct ds_error *err)
{
	char lock[32], statement[32];
	const char *params[] = { lock_timeout_ms < 0 ? NULL : lock,
				 statement_timeout_ms < 0 ? NULL : statement };
	PGresult *res;

	snprintf(lock, sizeof(lock), "%ld", lock_timeout_ms);
	snprintf(statement, sizeof(statement), "%ld", statement_timeout_ms);
	res = ds_sql_query(db, DS_SQL_SWAP_TRANSACTION_SETTINGS, 2, params, err);
	if (!res)
		return -1;
	if (old)
		*old = ds_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int ds_swap_restore_search_path(struct ds_db *db, const char *old, struct ds_error *err)
{
	const char *params[] = { old };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_RESTORE_SEARCH_PATH, 1, params, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int ds_swap_begin(struct ds_db *db, const char *begin, long lock_timeout_ms,
		  long statement_timeout_ms, struct ds_error *err)
{
	if (ds_db_exec(db, begin, err) < 0)
		return -1;
	if (ds_swap_settings(db, lock_timeout_ms, statement_timeout_ms, NULL, err) < 0) {
		ds_db_rollback(db);
		return -1;
	}
	return 0;
}

json_t *ds_swap_plan_rows(struct ds_db *db, const char *prod, const char *incoming,
			  struct ds_error *err)
{
	const char *params[] = { prod, incoming };

	return ds_sql_json_rows(db, DS_SQL_SWAP_PLAN, 2, params, err);
}

json_t *ds_swap_plan(struct ds_db *db, const char *prod, const char *incoming, long lock_timeout_ms,
		     struct ds_error *err)
{
	json_t *rows;

	if (ds_swap_begin(db, "BEGIN READ ONLY", lock_timeout_ms, -1, err) < 0)
		return NULL;
	rows = ds_swap_plan_rows(db, prod, incoming, err);
	if (ds_db_end(db, rows ? 0 : -1, err) < 0) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

int ds_swap_run_phase(struct ds_db *db, json_t *plan, const char *phase, int from, int to,
		      struct ds_error *err)
{
	size_t i;
	json_t *row;

	json_array_foreach(plan, i, row)
	{
		json_int_t ord = json_integer_value(json_object_get(row, "ord"));
		const char *stmt = json_string_value(json_object_get(row, "stmt"));

		if (strcmp(json_string_value(json_object_get(row, "phase")), phase) || ord < from ||
		    ord >= to || !stmt)
			continue;
		if (ds_db_exec(db, stmt, err) < 0) {
			ds_error_hint(err, "while running: %.400s", stmt);
			return -1;
		}
	}
	return 0;
}
