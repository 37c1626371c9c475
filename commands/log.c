/* log: read the audit log, the record of every command that changed state. */
#include "../core/audit.h"
#include "../core/util.h"
#include "command.h"

#define DEFAULT_SINCE "24h"

struct log_opts {
	const char *since, *user, *command;
};

static const struct log_opts log_defaults = { .since = DEFAULT_SINCE };

static const struct ds_opt log_options[] = {
	DS_OPT_STRING("since", struct log_opts, since, "DURATION",
		      "rows of the last DURATION: 90m, 24h, 7d (default " DEFAULT_SINCE ")"),
	DS_OPT_STRING("user", struct log_opts, user, "USER",
		      "only the commands of this database user"),
	DS_OPT_STRING("command", struct log_opts, command, "COMMAND",
		      "only this command (backfill, cancel, ...)"),
	DS_OPT_END,
};

static int run_log(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct log_opts *o = inv->opts;
	struct ds_audit_filter f = {
		.since = ds_duration_parse(o->since),
		.user = o->user,
		.command = o->command,
	};

	if (f.since < 0) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'--since %s' is not a duration", o->since);
		return ds_error_hint(&s->err, "write a number and a unit: 90m, 24h, 7d, 2w");
	}
	if (f.command && !ds_command_find(f.command))
		return ds_command_unknown(f.command, &s->err);
	out->data = ds_audit_read(&s->db, &f, &s->err);
	return out->data ? 0 : -1;
}

const struct ds_command ds_cmd_log = {
	.name = "log",
	.group = "runs",
	.synopsis = "[--since DURATION] [--user USER] [--command COMMAND]",
	.summary = "show who changed what: the audit log, oldest first",
	.description =
		"Every command that changes state leaves one row: when, the database user, the\n"
		"client address (empty on a Unix socket), the command line as typed (passwords\n"
		"masked), its outcome (ok or failed, with the error) and what it touched: the\n"
		"batch it made, the runs it cancelled, the schema versions init applied.",
	.example = "log --since 7d --command backfill",
	.opts = log_options,
	.opts_size = sizeof(struct log_opts),
	.opts_defaults = &log_defaults,
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_log,
};
