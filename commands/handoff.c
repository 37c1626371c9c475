/* handoff: the on-call summary for the next engineer. */
#include "../core/handoff.h"
#include "../core/sql.h"
#include "../core/util.h"
#include "command.h"

#define DEFAULT_SINCE "12h"

struct handoff_opts {
	const char *since;
	int all;
};

static const struct handoff_opts handoff_defaults = { .since = DEFAULT_SINCE };

static const struct ds_opt handoff_options[] = {
	DS_OPT_STRING("since", struct handoff_opts, since, "DURATION",
		      "what happened in the last DURATION: 90m, 12h, 2d (default " DEFAULT_SINCE
		      ")"),
	DS_OPT_BOOL("all", struct handoff_opts, all,
		    "every row of each section, not only the first 200"),
	DS_OPT_END,
};

static int run_handoff(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct handoff_opts *o = inv->opts;
	long seconds = ds_duration_parse(o->since);

	if (seconds < 0) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'--since %s' is not a duration", o->since);
		return ds_error_hint(&s->err, "write a number and a unit: 90m, 12h, 2d");
	}
	out->data = ds_handoff(&s->db, seconds, o->all ? DS_EVERY_ROW : DS_HANDOFF_SHOWN, &s->err);
	return out->data ? 0 : -1;
}

const struct ds_command ds_cmd_handoff = {
	.name = "handoff",
	.group = "on-call",
	.synopsis = "[--since DURATION] [--all]",
	.summary = "the on-call summary for the next engineer",
	.description =
		"What needs a person now: open alerts, open breakers, and the stuck keys\n"
		"(only a person can move them: see why) with their root causes. What happened\n"
		"in the window: keys that failed or were blocked, keys past their SLA and not\n"
		"done, the backfills and force-runs started (with their progress: runs in\n"
		"flight apart from those stuck), and who ran what. Each section lists its\n"
		"first 200 rows and says how many there are; --all lists them all.",
	.example = "handoff --since 12h",
	.opts = handoff_options,
	.opts_size = sizeof(struct handoff_opts),
	.opts_defaults = &handoff_defaults,
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_handoff,
};
