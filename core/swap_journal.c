/*
 * swap_journal.c: the journal of table swaps, one row of the swaps table per rebuild:
 * finding the active swap of a table, the statements about a swap, those left for
 * after a commit, accepting a failed check, status.
 *
 * A swap on a named connection has its tables in the warehouse and its journal here:
 * each step writes the warehouse's copy of the row first, in the transaction of its DDL,
 * and this file brings the journal forward from it (ds_swap_forward), with the records
 * of the tables and the audit row, after that commit or, when a shell died in between,
 * in the next command.
 *
 * It reads and writes the swaps row and what moves with it: starting a swap (swap_start.c),
 * checking it (swap_check.c) and the exchange and its end (swap_tx.c) call it, never
 * the other way round. Its SQL is core/sql/swap/journal_*.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "runs.h"
#include "swap.h"
#include "util.h"

void ds_swap_release(struct ds_swap *sw)
{
	if (sw->connection)
		ds_db_release(&sw->warehouse);
	free(sw->connection);
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

/* The text of definitions/NAME: what a warehouse needs of them. */
static const char *definitions(const char *name)
{
	const struct ds_sql_file *f = ds_sql_definitions;

	while (f->path && strcmp(f->path, name))
		f++;
	return f->text;
}

/*
 * What a swap needs in a warehouse, made there if it lacks it: the copy of the journal,
 * the write log, and the functions they use (iso_utc of definitions/05-time.sql and
 * those of 80-swaps.sql), as this binary has them, in a transaction under init's lock.
 */
static int install(struct ds_db *wh, struct ds_error *err)
{
	const char *params[] = { wh->schema };
	PGresult *res;
	int rc;

	if (ds_db_exec(wh, "BEGIN", err) < 0)
		return -1;
	res = ds_sql_query(wh, DS_SQL_STORE_LOCK, 1, params, err);
	rc = res ? 0 : -1;
	PQclear(res);
	if (rc == 0)
		rc = ds_db_exec_rows(
			wh, ds_sql_query(wh, DS_SQL_SWAP_WAREHOUSE_TABLES, 1, params, err), err);
	if (rc == 0)
		rc = ds_db_exec(wh, ds_sql(wh, DS_SQL_STORE_SEARCH_PATH), err);
	if (rc == 0)
		rc = ds_sql_exec_script(wh, definitions("definitions/05-time.sql"), err);
	if (rc == 0)
		rc = ds_sql_exec_script(wh, definitions("definitions/80-swaps.sql"), err);
	if (ds_db_end(wh, rc, err) < 0)
		return ds_error_hint(err,
				     "swap-table keeps its journal's copy and write log in "
				     "the schema %s of the warehouse: its user must be able to "
				     "create them",
				     wh->schema_ident);
	return 0;
}

int ds_swap_connect(struct ds_db *db, const char *connection, struct ds_swap *sw,
		    struct ds_error *err)
{
	const char *params[] = { connection };
	PGresult *res;
	char *what;

	sw->journal = sw->db = db;
	if (!connection)
		return 0;
	if (!(res = ds_sql_query(db, DS_SQL_SWAP_CONNECTION, 1, params, err)))
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		ds_error_set(err, DS_ERR_FAILED, "unknown connection '%s'", connection);
		return ds_error_hint(err, "the pipeline files declare connections "
					  "(\"connections\": {\"NAME\": \"CONNINFO\"}) and "
					  "'pipeline load' stores them");
	}
	what = ds_xprintf("cannot open connection '%s'", connection);
	sw->warehouse.conn = ds_db_connect_conninfo(PQgetvalue(res, 0, 0), "datashell", what, err);
	free(what);
	PQclear(res);
	if (!sw->warehouse.conn)
		return -1;
	/* The warehouse's schema has the state schema's name: ds_sql() fills it in. */
	sw->warehouse.schema = ds_xstrdup(db->schema);
	sw->warehouse.schema_ident = ds_xstrdup(db->schema_ident);
	sw->connection = ds_xstrdup(connection);
	sw->db = &sw->warehouse;
	/* Ctrl-C stops what waits there (a check's scan, the swap's lock) as well. */
	ds_db_cancel_also(sw->db);
	return install(sw->db, err);
}

/*
 * The ids of the swaps of table schema.name not finished, in the journal or in the
 * warehouse's copy, brought forward: a shell killed between the two left the journal a
 * step behind (a swap the copy has finished is active in the journal alone).
 */
static int bring_table_forward(struct ds_swap *sw, const char *schema, const char *name,
			       struct ds_error *err)
{
	const char *params[] = { sw->connection, schema, name };
	struct ds_db *dbs[] = { sw->db, sw->journal };

	for (int d = 0; d < 2; d++) {
		PGresult *res =
			ds_sql_query(dbs[d], DS_SQL_SWAP_JOURNAL_UNFINISHED, 3, params, err);
		int rc = res ? 0 : -1;

		for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
			sw->id = atoll(PQgetvalue(res, i, 0));
			rc = ds_swap_forward(sw, NULL, NULL, err);
		}
		PQclear(res);
		if (rc < 0)
			return -1;
	}
	sw->id = 0;
	return 0;
}

int ds_swap_find(struct ds_db *db, const char *table, const char *connection, struct ds_swap *sw,
		 struct ds_error *err)
{
	PGresult *res, *j;
	const char *params[3];

	memset(sw, 0, sizeof(*sw));
	if (ds_swap_connect(db, connection, sw, err) < 0 ||
	    !(res = ds_swap_resolve_table(sw->db, table, err)))
		return -1;
	params[0] = PQgetvalue(res, 0, 0);
	params[1] = PQgetvalue(res, 0, 1);
	params[2] = connection;
	if (connection && bring_table_forward(sw, params[0], params[1], err) < 0) {
		PQclear(res);
		return -1;
	}
	j = ds_sql_query(sw->db, DS_SQL_SWAP_JOURNAL_ACTIVE, 3, params, err);
	if (!j) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(j) == 0) {
		ds_error_set(err, DS_ERR_FAILED, "no swap of table '%s'%s%s%s is under way", table,
			     connection ? " (connection '" : "", connection ? connection : "",
			     connection ? "')" : "");
		ds_error_hint(err,
			      "start one with 'swap-table start %s%s%s'; 'swap-table status' "
			      "lists them",
			      table, connection ? " --connection " : "",
			      connection ? connection : "");
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
	ds_swap_fill_names(sw->db, sw);
	PQclear(j);
	PQclear(res);
	return 0;
}

int ds_swap_accept(struct ds_swap *sw, const char *check, const char *reason,
		   struct ds_audit *audit, struct ds_error *err)
{
	const char *extra[] = { check, reason };
	struct ds_db *db = sw->db;
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
		rc = res ? ds_swap_record(sw, NULL, NULL, audit, err) : -1;
	}
	PQclear(res);
	return ds_swap_commit(sw, rc, NULL, audit, err);
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

/*
 * Bring forward the journal of the swaps not finished on connection (of table
 * schema.name, or NULL for all), from the warehouse's copy.
 */
static int bring_connection_forward(struct ds_db *db, const char *connection, const char *schema,
				    const char *name, struct ds_error *err)
{
	struct ds_swap sw;
	int rc;

	memset(&sw, 0, sizeof(sw));
	rc = ds_swap_connect(db, connection, &sw, err);
	if (rc == 0)
		rc = bring_table_forward(&sw, schema, name, err);
	ds_swap_release(&sw);
	return rc;
}

/*
 * Every connection with swaps not finished, brought forward. One that cannot be reached
 * keeps its rows as the journal has them, which progress says, and why: the swaps of the
 * others are still shown.
 */
static int bring_all_forward(struct ds_db *db, ds_progress_fn progress, void *ctx,
			     struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_JOURNAL_CONNECTIONS, 0, NULL, err);

	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct ds_error e = { 0 };
		char *note;

		if (bring_connection_forward(db, PQgetvalue(res, i, 0), NULL, NULL, &e) == 0)
			continue;
		note = ds_xprintf("the swaps on connection '%s' are shown as the journal has them "
				  "(its last step may be missing): %s",
				  PQgetvalue(res, i, 0), e.message);
		if (progress)
			progress(ctx, note);
		free(note);
	}
	PQclear(res);
	return 0;
}

json_t *ds_swap_status(struct ds_db *db, const char *table, const char *connection,
		       ds_progress_fn progress, void *ctx, struct ds_error *err)
{
	const char *params[3] = { NULL, NULL, connection };
	struct ds_swap sw;
	PGresult *t = NULL;
	json_t *rows = NULL;

	memset(&sw, 0, sizeof(sw));
	if (!table && !connection) {
		if (bring_all_forward(db, progress, ctx, err) < 0)
			return NULL;
		return ds_sql_json_rows(db, DS_SQL_SWAP_JOURNAL_STATUS, 3, params, err);
	}
	if (ds_swap_connect(db, connection, &sw, err) < 0)
		goto done;
	if (table) {
		if (!(t = ds_swap_resolve_table(sw.db, table, err)))
			goto done;
		params[0] = PQgetvalue(t, 0, 0);
		params[1] = PQgetvalue(t, 0, 1);
	}
	if (connection && bring_table_forward(&sw, params[0], params[1], err) < 0)
		goto done;
	rows = ds_sql_json_rows(db, DS_SQL_SWAP_JOURNAL_STATUS, 3, params, err);
done:
	PQclear(t);
	ds_swap_release(&sw);
	return rows;
}

char *ds_swap_target_tasks(struct ds_swap *sw, struct ds_error *err)
{
	const char *params[] = { sw->connection, NULL, sw->schema, sw->table };
	PGresult *c = ds_sql_query(sw->journal, DS_SQL_SWAP_TARGET_CANDIDATES, 1, params, err),
		 *res;
	char *tasks;

	if (!c)
		return NULL;
	params[0] = PQgetvalue(c, 0, 0);
	params[1] = PQgetvalue(c, 0, 1);
	res = ds_sql_query(sw->db, DS_SQL_SWAP_TARGET_TASKS, 4, params, err);
	PQclear(c);
	if (!res)
		return NULL;
	tasks = ds_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return tasks;
}

int ds_swap_move_records(struct ds_db *db, struct ds_swap *sw, const char *tasks, const char *step,
			 struct ds_error *err)
{
	const char *extra[] = { tasks, step };
	PGresult *res = ds_swap_query(db, sw, DS_SQL_SWAP_MOVE_RECORDS, 2, extra, err);

	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int ds_swap_record(struct ds_swap *sw, const char *step, const char *tasks, struct ds_audit *audit,
		   struct ds_error *err)
{
	if (sw->connection)
		return 0;
	if (step && ds_swap_move_records(sw->db, sw, tasks, step, err) < 0)
		return -1;
	return ds_audit_ok(sw->db, audit, err);
}

int ds_swap_commit(struct ds_swap *sw, int rc, struct ds_cancel_report *runs,
		   struct ds_audit *audit, struct ds_error *err)
{
	if (ds_db_end(sw->db, rc, err) < 0)
		return -1;
	return ds_swap_forward(sw, runs, audit, err);
}

json_t *ds_swap_runs_json(const struct ds_cancel_report *runs)
{
	return json_pack("{s:I, s:I}", "cancelled", (json_int_t)runs->dequeued, "stopping",
			 (json_int_t)runs->stopping);
}

/*
 * In the journal's transaction: write swap sw->id's row as the warehouse's copy has it,
 * and move the records as the step it missed moves them.
 */
static int forward_row(struct ds_swap *sw, const char *row, struct ds_error *err)
{
	const char *params[] = { row, sw->connection };
	PGresult *res = ds_sql_query(sw->journal, DS_SQL_SWAP_JOURNAL_FORWARD, 2, params, err);
	struct ds_swap at = {
		.id = sw->id, .connection = sw->connection, .db = sw->db, .journal = sw->journal
	};
	char *tasks = NULL;
	int rc = res ? 0 : -1;

	if (rc == 0 && PQntuples(res) == 1 && !PQgetisnull(res, 0, 2)) {
		at.schema = PQgetvalue(res, 0, 0);
		at.table = PQgetvalue(res, 0, 1);
		tasks = ds_swap_target_tasks(&at, err);
		rc = tasks ? ds_swap_move_records(sw->journal, &at, tasks, PQgetvalue(res, 0, 2),
						  err)
			   : -1;
	}
	free(tasks);
	PQclear(res);
	return rc;
}

/* Swap id's row of the journal on db (or of the warehouse's copy) as JSON in *row, NULL: none. */
static int journal_row(struct ds_db *db, const char *id, json_t **row, struct ds_error *err)
{
	const char *params[] = { id };
	PGresult *res = ds_sql_query(db, DS_SQL_SWAP_JOURNAL_ROW, 1, params, err);

	*row = res && PQntuples(res) ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
	PQclear(res);
	return res ? 0 : -1;
}

int ds_swap_forward(struct ds_swap *sw, struct ds_cancel_report *runs, struct ds_audit *audit,
		    struct ds_error *err)
{
	json_t *copy = NULL, *journal = NULL;
	char id[32], *text = NULL;
	int rc;

	if (!sw->connection)
		return 0;
	snprintf(id, sizeof(id), "%lld", sw->id);
	rc = journal_row(sw->db, id, &copy, err);
	if (rc == 0)
		rc = journal_row(sw->journal, id, &journal, err);
	if (rc == 0 && copy && !json_equal(copy, journal))
		text = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	json_decref(journal);
	/* Nothing to bring nor to write: no transaction, which would wait for the journal. */
	if (rc < 0 || (!text && !runs && (!audit || !audit->command || audit->unchanged)))
		return rc;
	rc = ds_db_exec(sw->journal, "BEGIN", err);
	if (rc == 0 && text)
		rc = forward_row(sw, text, err);
	free(text);
	if (rc == 0 && runs) {
		rc = ds_cancel_swap_runs(sw->journal, sw->id, runs, err);
		if (rc == 0 && audit && audit->touched)
			json_object_set_new(audit->touched, "runs", ds_swap_runs_json(runs));
	}
	if (rc == 0)
		rc = ds_audit_ok(sw->journal, audit, err);
	return ds_db_end(sw->journal, rc, err);
}

int ds_swap_log_writes(struct ds_db *db, struct ds_swap *sw, struct ds_error *err)
{
	const char *extra[] = { db->schema };

	return ds_db_exec_rows(
		db, ds_swap_query(db, sw, DS_SQL_SWAP_WRITE_LOG_INSTALL, 1, extra, err), err);
}
