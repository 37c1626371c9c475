/*
 * key.h: partition keys and ranges of them.
 *
 * A key is text in one canonical form per kind, so that keys sort as they should:
 * 'YYYY-MM-DD' (daily), 'YYYY-MM-DDTHH' (hourly), '' (none). Ranges are written
 * 2024-01-05, 2024-01-01..2024-03-31, 2024-03 (a month), today, yesterday,
 * 2024-01-05T07 and 2024-01-05T00..2024-01-05T23.
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
 * Parse a range. today and yesterday are dates in the local time zone (TZ) at now.
 * Impossible dates, reversed ranges and mixed kinds fail with a message that quotes
 * the text and says what is wrong.
 */
int ds_range_parse(const char *text, time_t now, struct ds_range *r, struct ds_error *err);

/* The key count shifted by n keys (days or hours); out has DS_KEY_SIZE bytes. */
void ds_key_shift(enum ds_key_kind kind, const char *key, int n, char *out);

/*
 * 'YYYY-MM-DD HH:MI:SS' of the start of the key shifted by n, for the SQL variables
 * key_start and key_end; NULL for kind none. Caller frees.
 */
char *ds_key_bound(const char *kind_name, const char *key, int n);

#endif
