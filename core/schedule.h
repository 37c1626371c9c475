/*
 * schedule.h: where the schedule of each scheduled task stands, as `schedule` shows it.
 * The policy itself lives in the state store (definitions/72-schedule.sql): the workers'
 * passes and this listing read the same functions, at the server's clock.
 */
#ifndef DS_SCHEDULE_H
#define DS_SCHEDULE_H

#include <jansson.h>

#include "db.h"
#include "error.h"

/*
 * The scheduled tasks among those selector names (NULL: every task) less those exclude
 * names (NULL: none), in graph then name
 * order: [{"task", "graph", "paused", "next_key", "next_due_at", "enqueue", "last_key",
 * "key", "start", "due", "delay", "timezone", "catchup", "lookback", "priority"}], where
 * next_key is the first key not due yet, next_due_at when it becomes due, enqueue how
 * many runs a pass now would enqueue, and last_key the last key the schedule covered
 * (null before its first pass). Tasks without a schedule are left out; *nselected, if
 * not NULL, says how many tasks the selector named (-1 without one). NULL with err filled for a
 * selector that names nothing known. Caller frees.
 */
json_t *ds_schedule_list(struct ds_db *db, const char *selector, const char *exclude,
			 int *nselected, struct ds_error *err);

#endif
