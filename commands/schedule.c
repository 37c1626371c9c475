/*
 * schedule: where the schedule of each scheduled task stands: its policy, the last key
 * it covered, the next key and when it becomes due, what the next pass would enqueue,
 * and whether it is paused. The workers apply the schedule; see core/schedule.c.
 */
#include "../core/schedule.h"
#include "../core/util.h"
#include "command.h"

static int run_schedule(struct ds_session *s, const struct ds_invocation *inv,
			struct ds_result *out)
{
	const char *selector = inv->nargs ? inv->args[0] : NULL;
	json_t *rows;
	int n;

	rows = ds_schedule_list(&s->db, selector, inv->exclude, &n, &s->err);
	if (!rows)
		return -1;
	out->data = json_pack("{s:o}", "schedules", rows);
	/* A table of no rows says nothing; say it in words. */
	if (!json_array_size(rows) && (selector || inv->exclude))
		out->text = ds_xprintf("%s no schedule; a \"schedule\" with a \"start\" in the "
				       "pipeline file makes one (datashell-pipelines(5))",
				       n == 1 ? "the task selected has"
					      : "none of the tasks selected has");
	else if (!json_array_size(rows))
		out->text = ds_xstrdup("no task has a schedule; a \"schedule\" with a \"start\" in "
				       "the pipeline file makes one (datashell-pipelines(5))");
	return 0;
}

const struct ds_command ds_cmd_schedule = {
	.name = "schedule",
	.group = "pipelines",
	.synopsis = "[SELECTOR] [--exclude SELECTOR]",
	.summary = "show where each task's schedule stands and what runs next",
	.description =
		"For each scheduled task (one whose schedule has a start, see\n"
		"datashell-pipelines(5)): its policy, the last key its schedule covered, the next\n"
		"key and when it becomes due, how many runs the next pass of a worker would\n"
		"enqueue now, and whether it is paused (pausing a graph pauses its schedule).\n"
		"Tasks without a schedule are run by hand and not listed. SELECTOR as for\n"
		"backfill: name, name+, +name, graph:NAME, /regex/, & for intersection,\n"
		"comma for union; --exclude SELECTOR leaves tasks out (of all without one).",
	.example = "schedule graph:core",
	.complete = "SELECTOR",
	.max_args = 1,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA | DS_CMD_SELECTS,
	.role = DS_ROLE_VIEWER,
	.run = run_schedule,
};
