/* prune: delete old finished runs that no key needs any more. */
#include <stdio.h>
#include <stdlib.h>

#include "../core/prune.h"
#include "../core/util.h"
#include "command.h"

struct prune_opts {
	const char *before;
	long batch_size;
};

static const struct prune_opts prune_defaults = { .batch_size = DS_PRUNE_SLICE };

static const struct ds_opt prune_options[] = {
	DS_OPT_STRING("before", struct prune_opts, before, "DURATION|DATE",
		      "runs that ended before this: 180d, 26w, or a date, 2024-06-30 (required)"),
	DS_OPT_INT("batch-size", struct prune_opts, batch_size, "N",
		   "runs read per transaction (default 10000)"),
	DS_OPT_END,
};

static json_t *report_data(const struct ds_prune_report *rep, int dry_run)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:b}", "before", rep->cutoff, "runs",
			 (json_int_t)rep->runs, "attempts", (json_int_t)rep->attempts, "batches",
			 (json_int_t)rep->batches, "dry_run", dry_run);
}

/*
 * "delete 1200 runs that ended before 2024-06-30T00:00:00Z, with 3 retried attempts and
 * 4 batches left empty", verb being "delete" or "deleted". Caller frees.
 */
static char *describe(const struct ds_prune_report *rep, const char *verb)
{
	return ds_xprintf("%s %lld run%s that ended before %s, with %lld retried attempt%s and "
			  "%lld batch%s left empty",
			  verb, rep->runs, rep->runs == 1 ? "" : "s", rep->cutoff, rep->attempts,
			  rep->attempts == 1 ? "" : "s", rep->batches,
			  rep->batches == 1 ? "" : "es");
}

static int prune(struct ds_session *s, const struct prune_opts *o, int dry_run,
		 struct ds_prune_report *rep)
{
	/* Only the change itself is audited. */
	struct ds_audit *audit = dry_run ? NULL : &s->audit;

	return ds_prune(&s->db, o->before, (int)o->batch_size, dry_run, audit, rep, &s->err);
}

static int prune_now(struct ds_session *s, const struct prune_opts *o, struct ds_result *out)
{
	struct ds_prune_report rep;

	if (prune(s, o, 0, &rep) < 0)
		return -1;
	out->data = report_data(&rep, 0);
	out->text = describe(&rep, "deleted");
	return 0;
}

static int check_options(struct ds_session *s, const struct prune_opts *o)
{
	if (!o->before) {
		ds_error_set(&s->err, DS_ERR_USAGE, "prune needs --before");
		return ds_error_hint(&s->err, "prune --before 180d: runs that ended 180 days ago");
	}
	if (o->batch_size < 1 || o->batch_size > 1000000) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'--batch-size %ld' is not from 1 to 1000000",
			     o->batch_size);
		return -1;
	}
	return 0;
}

static int run_prune(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct prune_opts *o = inv->opts;
	struct ds_prune_report rep;
	json_t *shown;
	char *what;
	int rc;

	if (check_options(s, o) < 0)
		return -1;
	/* With --yes nobody is asked: the rolled-back pass would only do the work twice. */
	if (inv->yes && !inv->dry_run)
		return prune_now(s, o, out);
	if (prune(s, o, 1, &rep) < 0)
		return -1;
	what = describe(&rep, "delete");
	shown = report_data(&rep, 1);
	if (inv->dry_run) {
		out->data = shown;
		out->text = ds_xprintf("would %s; nothing was changed", what);
		free(what);
		return 0;
	}
	/* Nothing to delete needs nobody's consent. */
	rc = rep.runs ? ds_confirm(s, inv, shown, what, out) : 1;
	json_decref(shown);
	free(what);
	if (rc <= 0)
		return rc;
	return prune_now(s, o, out);
}

const struct ds_command ds_cmd_prune = {
	.name = "prune",
	.group = "runs",
	.synopsis = "--before DURATION|DATE [--batch-size N] [--dry-run] [--yes]",
	.summary = "delete old finished runs that no key needs",
	.description =
		"Deletes the runs that ended before the cutoff, with their retried attempts\n"
		"and the batches they leave empty, a slice per transaction. It keeps what\n"
		"the truth of a key needs: the latest run of every key and the run that built\n"
		"it (production's or a swap's), runs queued, running or held, a breaker's\n"
		"probe and the runs of open incidents. The audit log is kept. It first says\n"
		"what it will delete and, on a terminal, asks; a script (or cron) must add\n"
		"--yes. --dry-run only counts.",
	.example = "prune --before 180d --dry-run",
	.opts = prune_options,
	.opts_size = sizeof(struct prune_opts),
	.opts_defaults = &prune_defaults,
	.max_args = 0,
	.flags =
		DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_DESTRUCTIVE,
	.role = DS_ROLE_OPERATOR,
	.run = run_prune,
};
