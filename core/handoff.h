/*
 * handoff.h: the on-call summary for the next engineer: what is open now, and what
 * happened in the last hours.
 */
#ifndef DS_HANDOFF_H
#define DS_HANDOFF_H

#include "db.h"

/*
 * The summary over the last since_s seconds, one JSON object: "since" (when the window
 * began), "open_alerts", "open_breakers", "stuck_keys" (waiting keys only a person can
 * move, with their root causes), "failed_keys" (keys whose latest run failed
 * or was blocked in the window), "late_keys" (keys past their SLA in the window, not
 * done), "batches" (backfills and force-runs started in the window, with their
 * progress: runs in flight apart from the stuck ones), "swaps" (table swaps not finished, or that
 * moved in the window) and "commands" (who ran what: the audit log of the window). Each is an array
 * of objects, at most limit of them (DS_EVERY_ROW: all); each but open_breakers has
 * SECTION_total beside it, counting its rows in all.
 */
#define DS_HANDOFF_SHOWN 200 /* the rows of each section; a summary, not a dump */
json_t *ds_handoff(struct ds_db *db, long since_s, int limit, struct ds_error *err);

#endif
