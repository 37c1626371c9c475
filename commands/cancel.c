/* cancel: dequeue the runs of a batch, or of some tasks over a range, not yet finished. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/select.h"
#include "../core/util.h"
#include "command.h"

/* What is to be cancelled: a batch, or some tasks over a range. */
struct target {
	long long batch; /* 0 for tasks over a range */
	struct ds_run_request req;
};

static int parse_target(struct ds_session *s, const struct ds_invocation *inv, struct target *t)
{
	t->batch = 0;
	if (ds_word_is_batch(inv->args[0], &t->batch)) {
		if (inv->nargs == 1 && !inv->exclude)
			return 0;
		ds_error_set(&s->err, DS_ERR_USAGE, "cancel BATCH takes no %s",
			     inv->exclude ? "--exclude" : "range");
		return ds_error_hint(&s->err, "usage: cancel BATCH | SELECTOR RANGE");
	}
	if (inv->nargs != 2) {
		ds_error_set(&s->err, DS_ERR_USAGE, "cancel SELECTOR needs a RANGE");
		return ds_error_hint(&s->err, "usage: cancel BATCH | SELECTOR RANGE");
	}
	return ds_resolve_request(&s->db, inv->args[0], inv->exclude, inv->args[1], &t->req,
				  &s->err);
}

/* Cancel, or with dry_run count what would be cancelled and change nothing. */
static int cancel_target(struct ds_session *s, const struct target *t, int dry_run,
			 struct ds_cancel_report *rep)
{
	/* Only the change itself is audited. */
	struct ds_audit *audit = dry_run ? NULL : &s->audit;

	if (t->batch)
		return ds_cancel_batch(&s->db, t->batch, audit, dry_run, rep, &s->err);
	return ds_cancel_runs(&s->db, &t->req, audit, dry_run, rep, &s->err);
}

static json_t *report_data(const struct target *t, const struct ds_cancel_report *rep, int dry_run)
{
	json_t *data = json_pack("{s:I, s:I, s:b}", "dequeued", (json_int_t)rep->dequeued,
				 "stopping", (json_int_t)rep->stopping, "dry_run", dry_run);

	if (t->batch)
		json_object_set_new(data, "batch", json_integer(t->batch));
	else
		json_object_set_new(data, "range",
				    json_pack("{s:s, s:s}", "first_key", t->req.range.first,
					      "last_key", t->req.range.last));
	return data;
}

/* "cancel 3 queued runs and stop 1 running run of batch 42". Caller frees. */
static char *describe(const struct target *t, const struct ds_cancel_report *rep)
{
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_addf(&b, "cancel %ld queued run%s and stop %ld running run%s", rep->dequeued,
		    rep->dequeued == 1 ? "" : "s", rep->stopping, rep->stopping == 1 ? "" : "s");
	if (t->batch)
		ds_buf_addf(&b, " of batch %lld", t->batch);
	else
		ds_buf_addf(&b, " from %s to %s", t->req.range.first, t->req.range.last);
	return ds_buf_take(&b);
}

/* The cancel itself, and what it did. */
static int cancel_now(struct ds_session *s, const struct target *t, struct ds_result *out)
{
	struct ds_cancel_report rep;

	if (cancel_target(s, t, 0, &rep) < 0)
		return -1;
	out->data = report_data(t, &rep, 0);
	out->text = ds_xprintf("cancelled %ld queued run%s; asked %ld running run%s to stop",
			       rep.dequeued, rep.dequeued == 1 ? "" : "s", rep.stopping,
			       rep.stopping == 1 ? "" : "s");
	return 0;
}

static int cancel(struct ds_session *s, const struct ds_invocation *inv, const struct target *t,
		  struct ds_result *out)
{
	int dry_run = inv->dry_run, rc;
	struct ds_cancel_report rep;
	char *what;
	json_t *shown;

	/* With --yes nobody is asked: the rolled-back pass would only do the work twice. */
	if (inv->yes && !dry_run)
		return cancel_now(s, t, out);
	if (cancel_target(s, t, 1, &rep) < 0)
		return -1;
	what = describe(t, &rep);
	shown = report_data(t, &rep, 1);
	if (dry_run) {
		out->data = shown;
		out->text = ds_xprintf("would %s; nothing was changed", what);
		free(what);
		return 0;
	}
	/* Nothing to cancel needs nobody's consent. */
	rc = rep.dequeued || rep.stopping ? ds_confirm(s, inv, shown, what, out) : 1;
	json_decref(shown);
	free(what);
	if (rc <= 0)
		return rc;
	return cancel_now(s, t, out);
}

static int run_cancel(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	struct target t;
	int rc;

	if (parse_target(s, inv, &t) < 0)
		return -1;
	rc = cancel(s, inv, &t, out);
	if (!t.batch)
		ds_run_request_release(&t.req);
	return rc;
}

const struct ds_command ds_cmd_cancel = {
	.name = "cancel",
	.group = "runs",
	.synopsis = "BATCH | SELECTOR RANGE [--exclude SELECTOR] [--dry-run] [--yes]",
	.summary = "dequeue runs not yet started; ask running ones to stop",
	.description = "Stops a runaway backfill in one command: its queued and held runs become\n"
		       "cancelled at once, and the workers stop its running runs. It first says\n"
		       "how many runs it will cancel and, on a terminal, asks; a script must add\n"
		       "--yes. --dry-run only counts them.",
	.example = "cancel 42",
	.complete = "BATCH|SELECTOR KEY",
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES | DS_CMD_DRY_RUN |
		 DS_CMD_DESTRUCTIVE | DS_CMD_SELECTS,
	.role = DS_ROLE_OPERATOR,
	.run = run_cancel,
};
