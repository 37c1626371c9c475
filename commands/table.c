/* table.c: the list of commands. Add a command here and in its own file, nowhere else. */
#include "command.h"

extern const struct ds_command ds_cmd_help, ds_cmd_quit, ds_cmd_exit, ds_cmd_init, ds_cmd_local,
	ds_cmd_status, ds_cmd_metrics, ds_cmd_log;
extern const struct ds_command ds_cmd_worker;
extern const struct ds_command ds_cmd_backfill, ds_cmd_force_run, ds_cmd_cancel, ds_cmd_logs,
	ds_cmd_mark, ds_cmd_why, ds_cmd_prune;
extern const struct ds_command ds_cmd_pipeline, ds_cmd_schedule;
extern const struct ds_command ds_cmd_breaker, ds_cmd_alerts, ds_cmd_handoff;
extern const struct ds_command ds_cmd_swap_table;

/* In the order help lists them: the daily work first, the shell's own last. */
/* clang-format off */
const struct ds_command *const ds_commands[] = {
	&ds_cmd_status,
	&ds_cmd_metrics,
	&ds_cmd_log,
	&ds_cmd_logs,
	&ds_cmd_why,
	&ds_cmd_backfill,
	&ds_cmd_force_run,
	&ds_cmd_cancel,
	&ds_cmd_mark,
	&ds_cmd_prune,
	&ds_cmd_worker,
	&ds_cmd_pipeline,
	&ds_cmd_schedule,
	&ds_cmd_swap_table,
	&ds_cmd_alerts,
	&ds_cmd_breaker,
	&ds_cmd_handoff,
	&ds_cmd_init,
	&ds_cmd_local,
	&ds_cmd_help,
	&ds_cmd_quit,
	&ds_cmd_exit,
	NULL,
};
/* clang-format on */
