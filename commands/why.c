/* why: why a key of a task is not done, down to the root causes a person acts on. */
#include "../core/util.h"
#include "../core/why.h"
#include "command.h"

static const char *field(json_t *row, const char *name)
{
	const char *v = json_string_value(json_object_get(row, name));

	return v ? v : "";
}

/*
 * For people: a line per key, indented by its depth under the key that waits for it,
 * "TASK KEY: REASON (since T)", then its detail and, for a root cause a person must act
 * on, the command that does. Caller frees.
 */
static char *why_text(json_t *why)
{
	struct ds_buf b = DS_BUF_INIT;
	json_t *row;
	size_t i;

	json_array_foreach(json_object_get(why, "tree"), i, row)
	{
		int indent = 2 * (int)json_integer_value(json_object_get(row, "depth"));
		const char *key = field(row, "key");

		ds_buf_addf(&b, "%*s%s %s: %s", indent, "", field(row, "task"), *key ? key : "''",
			    field(row, "reason"));
		if (*field(row, "since"))
			ds_buf_addf(&b, " (since %s)", field(row, "since"));
		ds_buf_add(&b, "\n", 1);
		if (*field(row, "detail"))
			ds_buf_addf(&b, "%*s  %s\n", indent, "", field(row, "detail"));
		if (*field(row, "action"))
			ds_buf_addf(&b, "%*s  to act: %s\n", indent, "", field(row, "action"));
	}
	if (json_is_true(json_object_get(why, "done")))
		ds_buf_addf(&b, "done");
	else if (json_is_true(json_object_get(why, "stuck")))
		ds_buf_addf(&b, "stuck: only a person can move it");
	else
		ds_buf_addf(&b, "not stuck: it moves without anyone");
	return ds_buf_take(&b);
}

static int run_why(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	out->data = ds_key_why(&s->db, inv->args[0], inv->nargs > 1 ? inv->args[1] : "", &s->err);
	if (!out->data)
		return -1;
	out->text = why_text(out->data);
	return 0;
}

const struct ds_command ds_cmd_why = {
	.name = "why",
	.group = "runs",
	.synopsis = "TASK [KEY]",
	.summary = "explain why a key is not done, down to its root causes",
	.description =
		"The key's state and why: done (when, by which run, or marked by whom), not\n"
		"due yet (until when), no run (nobody asked: how to run it), failed or blocked\n"
		"(the error), cancelled (by whom), running (on which worker, its lease),\n"
		"backing off (until when), behind its breaker, its paused graph or its graph's\n"
		"cap, ready with no live worker, or waiting for upstream keys: then why each of\n"
		"those is not done, and so on up to the root causes. A root cause a person must\n"
		"act on names the command that does; the last line says whether the key is\n"
		"stuck (only a person can move it). A task without keys takes '' or no KEY.",
	.example = "why orders_daily 2024-01-17",
	.complete = "TASK KEY",
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_why,
};
