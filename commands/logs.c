/* logs: the history of one key of a task, every run of it, newest first. */
#include "../core/history.h"
#include "../core/util.h"
#include "command.h"

static int run_logs(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	out->data =
		ds_run_history(&s->db, inv->args[0], inv->nargs > 1 ? inv->args[1] : "", &s->err);
	return out->data ? 0 : -1;
}

const struct ds_command ds_cmd_logs = {
	.name = "logs",
	.group = "runs",
	.synopsis = "TASK KEY",
	.summary = "show every run of one key of a task, newest first",
	.description =
		"For each run of the key: its id and batch, the worker, how many attempts it\n"
		"took, when it was queued, started and ended and how long it took, its state,\n"
		"the error and its class, the command's output, the version of the task it ran\n"
		"and the table it wrote (production's, or a swap's T_backfill). A retry goes\n"
		"back to the queue in the same run, so the error and output are those of its\n"
		"last attempt. A key marked done by a person (mark) shows who and why. A task\n"
		"without keys takes '' or no KEY.",
	.example = "logs orders_daily 2024-01-17",
	.complete = "TASK KEY",
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_logs,
};
