/*
 * swap_journal.c: the journal of table swaps, one row of the swaps table per rebuild:
 * finding the active swap of a table, the statements about a swap, those left for
 * after a commit, accepting a failed check, status.
 *
 * It reads and writes the swaps row and nothing else: starting a swap (swap_start.c),
 * checking it (swap_check.c) and the exchange and its end (swap_tx.c) call it, never
 * the other way round. Its SQL is core/sql/swap/journal_*.sql.
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

PGresult *ds_swap_resolve_table(struct ds_db *db, const char *table, struct ds_error *err)
{
	const char *params[] = { table };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_RESOLVE_TABLE, 1, params, err);

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

void ds_swap_fill_names(struct ds_db *db, struct ds_swap *sw)
{
	sw->qtable = qualified(db, sw->schema, sw->table);
	sw->qshadow = qualified(db, sw->schema, sw->shadow);
	sw->qold = qualified(db, sw->schema, sw->old);
}

int ds_swap_find(struct ds_db *db, const char *table, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res = ds_swap_resolve_table(db, table, err), *j;
	const char *params[2];

	memset(sw, 0, sizeof(*sw));
	if (!res)
		return -1;
	params[0] = PQgetvalue(res, 0, 0);
	params[1] = PQgetvalue(res, 0, 1);
	j = ds_sql_query(db, DS_SQL_SWAP_JOURNAL_ACTIVE, 2, params, err);
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
	ds_swap_fill_names(db, sw);
	PQclear(j);
	PQclear(res);
	return 0;
}

int ds_swap_accept(struct ds_db *db, struct ds_swap *sw, const char *check, const char *reason,
		   struct ds_audit *audit, struct ds_error *err)
{
	const char *extra[] = { check, reason };
	PGresult *res;
	int rc;

	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	res = ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_ACCEPT, 2, extra, err);
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

PGresult *ds_swap_query(struct ds_db *db, const struct ds_swap *sw, enum ds_sql_id id, int nextra,
			const char *const *extra, struct ds_error *err)
{
	const char *params[4];
	char swap_id[32];

	if (nextra > 3)
		return ds_error_set(err, DS_ERR_FAILED, "ds_swap_query: too many parameters"), NULL;
	snprintf(swap_id, sizeof(swap_id), "%lld", sw->id);
	params[0] = swap_id;
	for (int i = 0; i < nextra; i++)
		params[i + 1] = extra[i];
	return ds_sql_query(db, id, 1 + nextra, params, err);
}

int ds_swap_run_pending(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	PGresult *res = ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_PENDING, 0, NULL, err);

	/* Each is idempotent (VALIDATE CONSTRAINT), so a killed shell just runs it again. */
	if (ds_db_exec_rows(db, res, err) < 0)
		return -1;
	res = ds_swap_query(db, sw, DS_SQL_SWAP_JOURNAL_PENDING_DONE, 0, NULL, err);
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

	if (table) {
		t = ds_swap_resolve_table(db, table, err);
		if (!t)
			return NULL;
		params[0] = PQgetvalue(t, 0, 0);
		params[1] = PQgetvalue(t, 0, 1);
	}
	rows = ds_sql_json_rows(db, DS_SQL_SWAP_JOURNAL_STATUS, 2, params, err);
	PQclear(t);
	return rows;
}

int ds_swap_log_writes(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *extra[] = { db->schema };

	return ds_db_exec_rows(
		db, ds_swap_query(db, sw, DS_SQL_SWAP_WRITE_LOG_INSTALL, 1, extra, err), err);
}
