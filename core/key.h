/*
 * key.h: partition keys and ranges of them.
 *
 * A key is text in one canonical form per kind, so that keys sort as they should:
 * 'YYYY-MM-DD' (daily), 'YYYY-MM-DDTHH' (hourly), '' (none). Ranges are written
 * 2024-01-05, 2024-01-01..2024-03-31, 2024-03 (a month), 2024-01-05T07 and
 * 2024-01-05T00..2024-01-05T23, and relative to now: today, yesterday, today-7,
 * today+1 (days) and now, now-6h (hours), as in today-7..yesterday.
 */
#ifndef DS_KEY_H
#define DS_KEY_H

#include <time.h>

#include "error.h"

enum ds_key_kind { DS_KEY_NONE, DS_KEY_DAILY, DS_KEY_HOURLY };

#define DS_KEY_SIZE 16 /* "YYYY-MM-DDTHH" and its NUL, with room to spare */

struct ds_range {
	enum ds_key_kind kind;
	char first[DS_KEY_SIZE];
	char last[DS_KEY_SIZE];
	long count; /* keys from first to last, both included */
	/*
	 * A range of days that also covers hourly tasks, with every hour of each day: status
	 * shows them rolled up per day (ds_resolve_calendar_request).
	 */
	int whole_days;
};

/* "daily", "hourly", "none". */
const char *ds_key_kind_name(enum ds_key_kind kind);

/* Parse a kind's name; -1 if it is not one. */
int ds_key_kind_parse(const char *name, enum ds_key_kind *kind);

/*
 * Parse a range. Relative keys (today, today-N, yesterday, now, now-Nh) are read on the
 * wall clock of the local time zone (TZ) at now; which of them are due is for each
 * task's schedule to say (core/sql/definitions/15-due.sql). Impossible dates, reversed
 * ranges, mixed kinds and malformed relative keys fail with a message that quotes the
 * text and says what is wrong.
 */
int ds_range_parse(const char *text, time_t now, struct ds_range *r, struct ds_error *err);

/*
 * ds_range_parse for tasks whose keys are of kind want: for hourly ones a relative day
 * is read as its hours (today as those up to the hour that holds now), so that
 * today-7..yesterday and today suit them too.
 */
int ds_range_parse_for(const char *text, enum ds_key_kind want, time_t now, struct ds_range *r,
		       struct ds_error *err);

/*
 * The moment relative keys are read at: now, or for tests the seconds since 1970 that
 * DATASHELL_NOW holds. Read once per command, so that every task sees the same now.
 */
time_t ds_range_now(void);

/* Whether DATASHELL_NOW, if set, is a whole number of seconds: checked once at start. */
int ds_range_now_check(struct ds_error *err);

/* The key count shifted by n keys (days or hours); out has DS_KEY_SIZE bytes. */
void ds_key_shift(enum ds_key_kind kind, const char *key, int n, char *out);

/*
 * 'YYYY-MM-DD HH:MI:SS' of the start of the key shifted by n, for the SQL variables
 * key_start and key_end; NULL for kind none. Caller frees.
 */
char *ds_key_bound(const char *kind_name, const char *key, int n);

#endif
