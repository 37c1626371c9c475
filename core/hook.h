/*
 * hook.h: handing alerts to the alert hook, a command that gets one alert as JSON on
 * its standard input (to reach PagerDuty, Slack or e-mail). The hook runs as
 * /bin/sh -c HOOK in its own process group, without blocking the worker; its output
 * goes to the worker's standard error. A hook that fails, or outlives its timeout and
 * is killed, is recorded on the alert, to be tried again later, and changes nothing
 * else.
 */
#ifndef DS_HOOK_H
#define DS_HOOK_H

#include "alerts.h"
#include "child.h"

struct ds_hook {
	const char *command; /* NULL: no hook */
	int timeout_s;
	struct ds_child child;	 /* child.pid is 0 while no hook runs */
	struct ds_alert_job job; /* what it was given to tell */
	double deadline;	 /* monotonic time it is killed at */
};

/* Start the hook for job, with json on its standard input. NULL, or why it could not. */
char *ds_hook_start(struct ds_hook *h, const struct ds_alert_job *job, const char *json,
		    double now);

/*
 * Whether the running hook is done: 1 with *error set (NULL: it succeeded; else why
 * not, which the caller frees), 0 while it runs. A hook past its deadline is killed.
 */
int ds_hook_poll(struct ds_hook *h, double now, char **error);

/* Kill a running hook and wait for it: the worker is going away. */
void ds_hook_abandon(struct ds_hook *h);

#endif
