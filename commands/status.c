/* status: the state of the pipelines; with no arguments, an overview. */
#include "../core/overview.h"
#include "command.h"

static int run_status(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	out->data = ds_overview(&s->db, &s->err);
	return out->data ? 0 : -1;
}

const struct ds_command ds_cmd_status = {
	.name = "status",
	.synopsis = "",
	.summary = "show the connection, the state schema and the state kept so far",
	.example = "status --json",
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.run = run_status,
};
