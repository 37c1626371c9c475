/*
 * alerts.h: the alerts people read and answer, and their delivery to the hook.
 *
 * An alert is one incident, one open per task and cause (a task failing: its failed
 * runs, its breaker, its blocked pre-checks; a day's SLA missed; a worker's leases
 * lost): raise_alert (definitions/40-alerts.sql) counts repeats of an open incident
 * and raises its severity instead of raising new ones, publishes each with NOTIFY
 * datashell_alerts, and the incident resolves itself when its cause clears.
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
	const char *tasks;   /* of the tasks a selector names (taskset.h) */
	const char *exclude; /* not of the tasks this selector names (--exclude) */
	const char *kind;    /* of this kind, one of ds_alert_kinds */
	const char *state;   /* in this state: open, acked or resolved */
	int open_only;	     /* not resolved */
};

/*
 * The alerts that pass f, newest first, the resolved ones last: at most limit of them
 * (DS_EVERY_ROW: all), *total counting them all. NULL with err filled.
 */
#define DS_ALERTS_SHOWN 500
json_t *ds_alerts_list(struct ds_db *db, const struct ds_alert_filter *f, int limit,
		       json_int_t *total, struct ds_error *err);

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

/* One thing to tell the hook: an action on an incident, at a severity. */
struct ds_alert_job {
	long long id;	   /* the incident (alert) */
	char action[8];	   /* trigger, update or resolve */
	char severity[10]; /* warning, error or critical: what the hook is told */
};

/*
 * Take the next thing to tell the hook (alerts/take.sql: the oldest incident whose
 * state differs from what the hook was told, and whose retry is due), for lease_s
 * seconds, after which another worker may take it should this one die. Returns the
 * incident as the hook receives it, with its action, JSON text the caller frees, and
 * fills job; NULL with *none set when there is nothing to tell, or NULL with err filled.
 */
char *ds_alert_take(struct ds_db *db, int lease_s, struct ds_alert_job *job, int *none,
		    struct ds_error *err);

/*
 * Record how the hook took job: error NULL when it succeeded (the hook was told), else
 * why not (the same action is tried again after a backoff, by any worker with a hook).
 */
int ds_alert_delivered(struct ds_db *db, const struct ds_alert_job *job, const char *error,
		       struct ds_error *err);

#endif
