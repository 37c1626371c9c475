/*
 * breaker.h: the per-task circuit breakers as people see and steer them. The worker
 * opens and closes them itself (see end_run in the migrations); these are the list,
 * and a person's reset and trip.
 */
#ifndef DS_BREAKER_H
#define DS_BREAKER_H

#include "audit.h"
#include "db.h"

/* Every breaker that is not closed or has counted failures, with its held runs. */
json_t *ds_breaker_list(struct ds_db *db, struct ds_error *err);

/*
 * Close task's breaker, forget its failures and queue its held runs again; the open
 * breaker's alert is resolved. With dry_run, only say what would happen. Returns
 * {"task", "state" (as it was), "requeued"}, or NULL with err filled (an unknown task,
 * with the closest name). The audit row, in the same transaction, records the result.
 */
json_t *ds_breaker_reset(struct ds_db *db, const char *task, int dry_run, struct ds_audit *audit,
			 struct ds_error *err);

/*
 * Open task's breaker by hand: its queued runs are held and no probe goes through
 * until a reset. Returns {"task", "state" (as it was), "held"}, or NULL.
 */
json_t *ds_breaker_trip(struct ds_db *db, const char *task, const char *reason, int dry_run,
			struct ds_audit *audit, struct ds_error *err);

#endif
