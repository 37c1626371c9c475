/*
 * alerts.h: the alerts people read and answer, and their delivery to the hook.
 *
 * An alert is one incident (a task failing, a breaker open, a pre-check blocking, an
 * SLA missed, a worker's lease lost): raise_alert (see the migrations) counts repeats
 * of an open incident instead of raising new ones, and publishes each with NOTIFY
 * datashell_alerts.
 */
#ifndef DS_ALERTS_H
#define DS_ALERTS_H

#include "audit.h"
#include "db.h"

/* The alerts, newest first; with open_only, those not resolved. */
json_t *ds_alerts_list(struct ds_db *db, int open_only, struct ds_error *err);

/*
 * Acknowledge ("acked") or resolve ("resolved") alert id. An unknown id, or acking a
 * resolved alert, is an error. Returns the alert as it is now, or NULL.
 */
json_t *ds_alert_answer(struct ds_db *db, long long id, const char *state, int dry_run,
			struct ds_audit *audit, struct ds_error *err);

/*
 * Take the oldest alert not yet handed to the hook, for lease_s seconds (after which
 * another worker may take it, should this one die). Returns the alert as the hook
 * receives it, JSON text the caller frees; NULL with *none set when there is none, or
 * NULL with err filled.
 */
char *ds_alert_take(struct ds_db *db, int lease_s, long long *id, int *none, struct ds_error *err);

/* Record how the hook took alert id: error NULL when it succeeded. */
int ds_alert_delivered(struct ds_db *db, long long id, const char *error, struct ds_error *err);

#endif
