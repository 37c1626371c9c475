/* force-run: run some tasks for one key again, even if complete, ahead of the queue. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/report.h"
#include "../core/select.h"
#include "../core/util.h"
#include "command.h"

/* Forced runs jump the queue: an on-call engineer is waiting for them. */
#define FORCE_PRIORITY 100

struct force_run_opts {
	int ignore_deps, wait;
	const char *reconnect_timeout;
};

static const struct force_run_opts force_run_defaults = {
	.reconnect_timeout = DS_RECONNECT_TIMEOUT,
};

static const struct ds_opt force_run_options[] = {
	DS_OPT_BOOL("ignore-deps", struct force_run_opts, ignore_deps,
		    "run without waiting for the upstream tasks"),
	DS_OPT_BOOL("wait", struct force_run_opts, wait,
		    "wait until the runs finish; fail if one of them fails"),
	DS_OPT_STRING("reconnect-timeout", struct force_run_opts, reconnect_timeout, "DURATION",
		      "with --wait, when the server is lost, try to reconnect for this long "
		      "(default 5m; 0: exit at once)"),
	DS_OPT_END,
};

static int run_force_run(struct ds_session *s, const struct ds_invocation *inv,
			 struct ds_result *out)
{
	const struct force_run_opts *o = inv->opts;
	struct ds_run_request req;
	long long batch;
	long enqueued;
	int reconnect_s;
	json_t *plan, *not_due;

	if (ds_reconnect_timeout(o->reconnect_timeout, &reconnect_s, &s->err) < 0)
		return -1;
	if (ds_resolve_request(&s->db, inv->args[0], inv->exclude, inv->args[1], &req, &s->err) < 0)
		return -1;
	if (req.range.count != 1) {
		ds_run_request_release(&req);
		ds_error_set(&s->err, DS_ERR_USAGE, "force-run takes one key, not %ld",
			     req.range.count);
		return ds_error_hint(&s->err, "for a range, use 'backfill SELECTOR RANGE --rerun'");
	}
	req.rerun = 1;
	req.ignore_deps = o->ignore_deps;
	req.priority = FORCE_PRIORITY;
	plan = ds_plan(&s->db, &req, &not_due, &s->err);
	if (plan && inv->dry_run) {
		ds_run_request_release(&req);
		out->data = json_pack("{s:b, s:o}", "dry_run", 1, "plan", plan);
		ds_plan_add_not_due(out->data, not_due);
		return 0;
	}
	/* Its audit row says what the waiting came to, not only what was enqueued. */
	s->audit.waits = o->wait;
	if (!plan ||
	    ds_enqueue(&s->db, &req, "force-run", &s->audit, &batch, &enqueued, &s->err) < 0) {
		json_decref(plan);
		json_decref(not_due);
		ds_run_request_release(&req);
		return -1;
	}
	ds_run_request_release(&req);
	out->data = json_pack("{s:o, s:I, s:o}", "batch", batch ? json_integer(batch) : json_null(),
			      "enqueued", (json_int_t)enqueued, "plan", plan);
	ds_plan_add_not_due(out->data, not_due);
	if (!o->wait || !batch)
		return 0;
	return ds_wait_for(s, batch, reconnect_s, out->data);
}

const struct ds_command ds_cmd_force_run = {
	.name = "force-run",
	.group = "runs",
	.synopsis = "SELECTOR KEY [--exclude SELECTOR] [--ignore-deps] [--wait] "
		    "[--reconnect-timeout DURATION] [--dry-run]",
	.summary = "run some tasks for one key again, even if complete, ahead of the queue",
	.description =
		"Enqueues one run per selected task for KEY as a batch, at a priority above\n"
		"backfills. A run already queued or running is not duplicated. With --wait\n"
		"it waits for a worker to finish them and fails if one of them fails, or\n"
		"when nothing can progress for DATASHELL_WAIT_GRACE seconds (30): no live\n"
		"worker, or all that is left stuck (breaker open, graph paused, upstream\n"
		"failed); it names those runs. A lost server is ridden out as by backfill\n"
		"--wait, for up to --reconnect-timeout.\n"
		"--dry-run shows the plan and enqueues nothing. A key that is not due yet\n"
		"for a task is not run for it (the plan's Not due section says when it\n"
		"becomes due); when it is due for none, it fails.",
	.example = "force-run orders_daily+ yesterday --wait",
	.opts = force_run_options,
	.opts_size = sizeof(struct force_run_opts),
	.opts_defaults = &force_run_defaults,
	.complete = "SELECTOR KEY",
	.min_args = 2,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_SELECTS,
	.role = DS_ROLE_OPERATOR,
	.run = run_force_run,
};
