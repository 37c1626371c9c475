/* cancel: dequeue the runs of a batch, or of some tasks over a range, not yet finished. */
#include <stdio.h>

#include "../core/util.h"
#include "command.h"

static int run_cancel(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	struct ds_cancel_report rep;
	struct ds_run_request req;
	long long batch;
	int rc;

	if (ds_word_is_batch(inv->args[0], &batch)) {
		if (inv->nargs != 1) {
			ds_error_set(&s->err, DS_ERR_USAGE, "cancel BATCH takes no range");
			return ds_error_hint(&s->err, "usage: cancel BATCH | SELECTOR RANGE");
		}
		if (ds_cancel_batch(&s->db, batch, &s->audit, &rep, &s->err) < 0)
			return -1;
		out->data =
			json_pack("{s:I, s:I, s:I}", "batch", (json_int_t)batch, "dequeued",
				  (json_int_t)rep.dequeued, "stopping", (json_int_t)rep.stopping);
	} else {
		if (inv->nargs != 2) {
			ds_error_set(&s->err, DS_ERR_USAGE, "cancel SELECTOR needs a RANGE");
			return ds_error_hint(&s->err, "usage: cancel BATCH | SELECTOR RANGE");
		}
		if (ds_resolve_request(s, inv->args[0], inv->args[1], &req) < 0)
			return -1;
		rc = ds_cancel_runs(&s->db, &req, &s->audit, &rep, &s->err);
		ds_run_request_release(&req);
		if (rc < 0)
			return -1;
		out->data = json_pack("{s:I, s:I}", "dequeued", (json_int_t)rep.dequeued,
				      "stopping", (json_int_t)rep.stopping);
	}
	out->text = ds_xprintf("cancelled %ld queued run%s; asked %ld running run%s to stop",
			       rep.dequeued, rep.dequeued == 1 ? "" : "s", rep.stopping,
			       rep.stopping == 1 ? "" : "s");
	return 0;
}

const struct ds_command ds_cmd_cancel = {
	.name = "cancel",
	.group = "runs",
	.synopsis = "BATCH | SELECTOR RANGE",
	.summary = "dequeue runs not yet started; ask running ones to stop",
	.description = "Stops a runaway backfill in one command: its queued and held runs become\n"
		       "cancelled at once, and the workers stop its running runs.",
	.example = "cancel 42",
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES,
	.role = DS_ROLE_OPERATOR,
	.run = run_cancel,
};
