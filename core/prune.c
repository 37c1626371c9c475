/* prune.c: old finished runs leave the state, a slice per transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prune.h"
#include "sql.h"
#include "util.h"

/* Whether text is a calendar date, YYYY-MM-DD, that exists. */
static int is_date(const char *text)
{
	struct tm tm = { 0 };
	char *end = strptime(text, "%Y-%m-%d", &tm);
	int year = tm.tm_year, month = tm.tm_mon, day = tm.tm_mday;

	if (strlen(text) != 10 || !end || *end)
		return 0;
	/* timegm normalizes 2024-02-30 to March: a date that moved did not exist. */
	timegm(&tm);
	return tm.tm_year == year && tm.tm_mon == month && tm.tm_mday == day;
}

static int bad_before(const char *before, const char *why, struct ds_error *err)
{
	ds_error_set(err, DS_ERR_USAGE, "'--before %s' %s", before, why);
	return ds_error_hint(err, "a duration before now (180d, 26w) or a date in the past "
				  "(2024-06-30)");
}

/* The cutoff as the server reads it, into at (its own text) and rep->cutoff. */
static int resolve_cutoff(struct ds_db *db, const char *before, char *at, size_t size,
			  struct ds_prune_report *rep, struct ds_error *err)
{
	long seconds = ds_duration_parse(before);
	char text[32];
	const char *params[] = { seconds >= 0 ? text : NULL, seconds >= 0 ? NULL : before };
	PGresult *res;
	int future;

	if (seconds < 0 && !is_date(before))
		return bad_before(before, "is neither a duration nor a date", err);
	snprintf(text, sizeof(text), "%ld", seconds);
	res = ds_sql_query(db, DS_SQL_PRUNE_CUTOFF, 2, params, err);
	if (!res)
		return -1;
	snprintf(at, size, "%s", PQgetvalue(res, 0, 0));
	snprintf(rep->cutoff, sizeof(rep->cutoff), "%s", PQgetvalue(res, 0, 1));
	future = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);
	return future ? bad_before(before, "is in the future", err) : 0;
}

/* What the prune has done so far, for the audit row (written when the command ends). */
static void touch(struct ds_audit *audit, const struct ds_prune_report *rep)
{
	ds_audit_touch(audit,
		       json_pack("{s:s, s:I, s:I, s:I}", "before", rep->cutoff, "runs",
				 (json_int_t)rep->runs, "attempts", (json_int_t)rep->attempts,
				 "batches", (json_int_t)rep->batches));
}

/* Where the next slice starts reading: after this (finished_at, id). */
struct position {
	char at[64];
	char id[32];
};

/* One slice, which moves pos on; 1 when there may be more to read, 0 when not, -1 on error. */
static int prune_slice(struct ds_db *db, const char *cutoff, struct position *pos, int slice,
		       struct ds_prune_report *rep, struct ds_error *err)
{
	char limit[16];
	const char *params[] = { cutoff, pos->at, pos->id, limit };
	PGresult *res;
	int more;

	snprintf(limit, sizeof(limit), "%d", slice);
	res = ds_sql_query(db, DS_SQL_PRUNE_SLICE, 4, params, err);
	if (!res)
		return -1;
	rep->runs += atoll(PQgetvalue(res, 0, 0));
	rep->attempts += atoll(PQgetvalue(res, 0, 1));
	rep->batches += atoll(PQgetvalue(res, 0, 2));
	more = !PQgetisnull(res, 0, 3);
	if (more) {
		snprintf(pos->at, sizeof(pos->at), "%s", PQgetvalue(res, 0, 3));
		snprintf(pos->id, sizeof(pos->id), "%s", PQgetvalue(res, 0, 4));
	}
	PQclear(res);
	return more;
}

static int prune_all(struct ds_db *db, const char *cutoff, int slice, struct ds_audit *audit,
		     struct ds_prune_report *rep, struct ds_error *err)
{
	struct position pos = { "-infinity", "0" };
	int more;

	do {
		more = prune_slice(db, cutoff, &pos, slice, rep, err);
		touch(audit, rep);
	} while (more > 0);
	return more;
}

int ds_prune(struct ds_db *db, const char *before, int slice, int dry_run, struct ds_audit *audit,
	     struct ds_prune_report *rep, struct ds_error *err)
{
	char cutoff[64];

	memset(rep, 0, sizeof(*rep));
	if (resolve_cutoff(db, before, cutoff, sizeof(cutoff), rep, err) < 0)
		return -1;
	if (!dry_run)
		return prune_all(db, cutoff, slice, audit, rep, err);
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return -1;
	if (prune_all(db, cutoff, slice, NULL, rep, err) < 0) {
		ds_db_rollback(db);
		return -1;
	}
	ds_db_rollback(db);
	return 0;
}
