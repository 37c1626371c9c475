/* hook.c: running the alert hook as a child process, polled from the worker's loop. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "hook.h"
#include "util.h"

char *ds_hook_start(struct ds_hook *h, const struct ds_alert_job *job, const char *json, double now)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)h->command, NULL };
	/* The alert on its stdin; what it says goes to the worker's stderr. */
	const struct ds_child_opts opts = {
		.path = "/bin/sh",
		.argv = argv,
		.own_group = 1,
		.input = json,
		.output = DS_CHILD_OUTPUT_STDERR,
	};
	const char *failed;

	if (ds_child_start(&h->child, &opts, &failed) < 0)
		return ds_xprintf("cannot start the alert hook: %s: %s", failed, strerror(errno));
	h->job = *job;
	h->deadline = now + h->timeout_s;
	return NULL;
}

int ds_hook_poll(struct ds_hook *h, double now, char **error)
{
	int status = 0;

	*error = NULL;
	/* Whatever the hook started goes with it. */
	switch (ds_child_poll(&h->child, now, h->deadline, 1, &status)) {
	case DS_CHILD_RUNNING:
		return 0;
	case DS_CHILD_LOST:
		*error = ds_xprintf("lost track of the hook: %s", strerror(errno));
		h->child.pid = 0;
		break;
	case DS_CHILD_TIMED_OUT:
		*error = ds_xprintf("the hook ran longer than %ds and was killed", h->timeout_s);
		break;
	case DS_CHILD_EXITED:
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			*error = ds_xprintf("the hook exited with status %d", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			*error = ds_xprintf("the hook was killed by signal %d (%s)",
					    WTERMSIG(status), strsignal(WTERMSIG(status)));
		break;
	}
	return 1;
}

void ds_hook_abandon(struct ds_hook *h)
{
	ds_child_kill(&h->child);
}
