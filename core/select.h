/*
 * select.h: which runs a command works on, from the words a person gives: a selector
 * of tasks (taskset.h) over a range of keys (key.h), resolved against the tasks in
 * the state store into a run request (runs.h); or a batch, by its number.
 */
#ifndef DS_SELECT_H
#define DS_SELECT_H

#include "db.h"
#include "error.h"
#include "runs.h"

/*
 * Resolve selector, less the tasks exclude names (NULL: none), over range_text into req.
 * The range is read for the selected tasks' kind of key, relative keys (today-7, now-6h)
 * at one moment, ds_range_now(). A NULL range_text means the recent past: the last 14
 * days for daily tasks, the last 24 hours for hourly ones. Release req with
 * ds_run_request_release(); on failure err says why and req holds nothing.
 */
int ds_resolve_request(struct ds_db *db, const char *selector, const char *exclude,
		       const char *range_text, struct ds_run_request *req, struct ds_error *err);

/*
 * As ds_resolve_request, for the calendar of status: daily and hourly tasks may be
 * selected together, and a range of days (the default then: the last 14 days) covers
 * the hours of those days (range.whole_days); hourly tasks alone over one day show
 * that day's hours instead.
 */
int ds_resolve_calendar_request(struct ds_db *db, const char *selector, const char *exclude,
				const char *range_text, struct ds_run_request *req,
				struct ds_error *err);

/* Whether word names a batch (all digits) rather than a selector; *id is its number. */
int ds_word_is_batch(const char *word, long long *id);

#endif
