/* select.c: the runs a selector and a range of keys name, and whether a word is a batch. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "select.h"
#include "util.h"

int ds_word_is_batch(const char *word, long long *id)
{
	if (!*word || strlen(word) > 18)
		return 0;
	for (const char *p = word; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	*id = atoll(word);
	return 1;
}

/*
 * The kind of key the selected tasks share; DS_KEY_NONE if all are of kind none. With
 * by_day, daily and hourly tasks together share days.
 */
static int common_kind(const struct ds_taskset *ts, const char *selected, int by_day,
		       enum ds_key_kind *kind, struct ds_error *err)
{
	*kind = DS_KEY_NONE;
	for (int i = 0; i < ts->n; i++) {
		if (!selected[i] || ts->tasks[i].kind == DS_KEY_NONE)
			continue;
		if (*kind != DS_KEY_NONE && *kind != ts->tasks[i].kind) {
			if (by_day) {
				*kind = DS_KEY_DAILY;
				continue;
			}
			ds_error_set(err, DS_ERR_USAGE,
				     "the selected tasks have daily and hourly keys");
			return ds_error_hint(err, "give a range of dates or of hours");
		}
		*kind = ts->tasks[i].kind;
	}
	return 0;
}

/*
 * A range for the selected tasks, of their kind of key; NULL text: the recent past. The
 * calendar (by_day) reads days as days: calendar_range then decides how to show them.
 */
static int parse_range(const char *text, enum ds_key_kind kind, int by_day, time_t now,
		       struct ds_range *range, struct ds_error *err)
{
	if (!text)
		text = kind == DS_KEY_HOURLY ? "now-23h..now" : "today-13..today";
	return ds_range_parse_for(text, by_day ? DS_KEY_NONE : kind, now, range, err);
}

/*
 * A range of days, for the calendar, covers the hours of its days; but one day of
 * hourly tasks alone is shown hour by hour.
 */
static int calendar_range(enum ds_key_kind kind, struct ds_range *range, struct ds_error *err)
{
	char hours[2 * DS_KEY_SIZE + 8];

	if (range->kind != DS_KEY_DAILY)
		return 0;
	if (kind == DS_KEY_HOURLY && range->count == 1) {
		snprintf(hours, sizeof(hours), "%sT00..%sT23", range->first, range->first);
		return ds_range_parse(hours, ds_range_now(), range, err);
	}
	range->whole_days = 1;
	return 0;
}

static int resolve(struct ds_db *db, const char *selector, const char *exclude,
		   const char *range_text, int by_day, struct ds_run_request *req,
		   struct ds_error *err)
{
	struct ds_taskset ts;
	struct ds_range range;
	enum ds_key_kind kind;
	char *selected;
	int rc = -1;

	memset(req, 0, sizeof(*req));
	if (ds_taskset_load(db, &ts, err) < 0)
		return -1;
	selected = memset(ds_xmalloc((size_t)ts.n + 1), 0, (size_t)ts.n + 1);
	if (ds_select(&ts, selector, exclude, selected, err) == 0 &&
	    common_kind(&ts, selected, by_day, &kind, err) == 0 &&
	    parse_range(range_text, kind, by_day, ds_range_now(), &range, err) == 0 &&
	    (!by_day || calendar_range(kind, &range, err) == 0))
		rc = ds_run_request_init(req, &ts, selected, &range, err);
	free(selected);
	ds_taskset_release(&ts);
	return rc;
}

int ds_resolve_request(struct ds_db *db, const char *selector, const char *exclude,
		       const char *range_text, struct ds_run_request *req, struct ds_error *err)
{
	return resolve(db, selector, exclude, range_text, 0, req, err);
}

int ds_resolve_calendar_request(struct ds_db *db, const char *selector, const char *exclude,
				const char *range_text, struct ds_run_request *req,
				struct ds_error *err)
{
	return resolve(db, selector, exclude, range_text, 1, req, err);
}
