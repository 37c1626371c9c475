/* audit.c: writing the audit log, and keeping secrets out of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "sql.h"
#include "util.h"

void ds_audit_begin(struct ds_audit *a, const char *line)
{
	memset(a, 0, sizeof(*a));
	a->command = ds_redact_secrets(line);
}

void ds_audit_release(struct ds_audit *a)
{
	free(a->command);
	json_decref(a->touched);
	memset(a, 0, sizeof(*a));
}

void ds_audit_touch(struct ds_audit *a, json_t *touched)
{
	if (!a) {
		json_decref(touched);
		return;
	}
	json_decref(a->touched);
	a->touched = touched;
}

/* One row, through the schema's audit_write(): the server says who and from where. */
static int write_row(struct ds_db *db, struct ds_audit *a, const char *outcome, const char *error,
		     json_t *touched, struct ds_error *err)
{
	char *text = touched ? json_dumps(touched, JSON_COMPACT) : NULL;
	const char *params[] = { a->command, outcome, error, text };
	PGresult *res = ds_sql_query(db, DS_SQL_AUDIT_WRITE, 4, params, err);

	free(text);
	if (!res)
		return -1;
	a->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int ds_audit_ok(struct ds_db *db, struct ds_audit *a, struct ds_error *err)
{
	if (!a || !a->command || a->unchanged)
		return 0;
	return write_row(db, a, a->waits ? "waiting" : "ok", NULL, a->touched, err);
}

/* Conclude the "waiting" row a->id; 1 when it was there to conclude. */
static int conclude(struct ds_db *db, struct ds_audit *a, int rc, const struct ds_error *error)
{
	char id[32], *message = rc < 0 ? ds_redact_secrets(error->message) : NULL;
	const char *params[] = { id, rc < 0 ? "failed" : "ok", message, NULL };
	struct ds_error ignored;
	PGresult *res;
	int found;

	snprintf(id, sizeof(id), "%lld", a->id);
	res = ds_sql_query(db, DS_SQL_AUDIT_CONCLUDE, 4, params, &ignored);
	found = res && PQntuples(res) > 0;
	PQclear(res);
	free(message);
	return found;
}

/* Whether the row written earlier is there: its transaction may have been rolled back. */
static int row_committed(struct ds_db *db, long long id)
{
	char text[32];
	const char *params[] = { text };
	struct ds_error ignored;
	PGresult *res;
	int found;

	snprintf(text, sizeof(text), "%lld", id);
	res = ds_sql_query(db, DS_SQL_AUDIT_ROW_COMMITTED, 1, params, &ignored);
	found = res && PQntuples(res) > 0;
	PQclear(res);
	return found;
}

void ds_audit_finish(struct ds_db *db, struct ds_audit *a, int rc, const struct ds_error *error)
{
	struct ds_error ignored;

	if (!a->command || a->unchanged || !ds_db_connected(db))
		return;
	if (a->waits && a->id && (rc == 0 || error->kind == DS_ERR_FAILED)) {
		ds_db_rollback(db);
		if (conclude(db, a, rc, error))
			return;
	}
	/* A usage error was refused before anything was tried. */
	if (rc == 0 ? a->id != 0 : error->kind != DS_ERR_FAILED)
		return;
	/* A failed command may leave its transaction open; its row must not go down with it. */
	ds_db_rollback(db);
	if (rc < 0 && a->id && row_committed(db, a->id))
		return; /* it changed state, then failed later (while waiting, say) */
	if (rc == 0) {
		write_row(db, a, "ok", NULL, a->touched, &ignored);
	} else {
		char *message = ds_redact_secrets(error->message);

		/* What it did before it failed, if it says (a drain that left runs behind). */
		write_row(db, a, "failed", message, a->touched, &ignored);
		free(message);
	}
}

json_t *ds_audit_read(struct ds_db *db, const struct ds_audit_filter *f, struct ds_error *err)
{
	char since[32];
	const char *params[] = { since, f->user, f->command };

	snprintf(since, sizeof(since), "%ld", f->since);
	return ds_sql_json_rows(db, DS_SQL_AUDIT_READ, 3, params, err);
}
