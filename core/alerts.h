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

/* The kinds of alert datashell raises, NULL-terminated: what --kind takes. */
extern const char *const ds_alert_kinds[];

/*
 * Which alerts a command takes: those that pass every filter given (NULL, 0: any).
 * ids are for ack and resolve, state and open_only for the listing.
 */
struct ds_alert_filter {
	const long long *ids; /* these alerts, nids of them */
	int nids;
	const char *tasks; /* of the tasks a selector names (taskset.h) */
	const char *kind;  /* of this kind, one of ds_alert_kinds */
	const char *state; /* in this state: open, acked or resolved */
	int open_only;	   /* not resolved */
};

/* The alerts that pass f, newest first, the resolved ones last. NULL with err filled. */
json_t *ds_alerts_list(struct ds_db *db, const struct ds_alert_filter *f, struct ds_error *err);

/*
 * Acknowledge ("acked") or resolve ("resolved") the alerts that pass f, in one
 * statement: by filter alone, the alerts not resolved (ack: the open ones). All or
 * nothing: an id that names no alert, or a resolved one, is an error naming them, and
 * nothing changes. Audited with reason, which may be NULL. Returns {"state", "count",
 * "ids", "alerts": [{id, was, state, kind, task, key, summary}]} (caller frees), or
 * NULL with err filled. With dry_run, what it would answer, and nothing changed.
 */
json_t *ds_alerts_answer(struct ds_db *db, const struct ds_alert_filter *f, const char *state,
			 const char *reason, int dry_run, struct ds_audit *audit,
			 struct ds_error *err);

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
