/* logs: the history of one key of a task, every run of it, newest first. */
#include <string.h>

#include "../core/history.h"
#include "../core/util.h"
#include "command.h"

static const char *field(json_t *run, const char *name)
{
	const char *v = json_string_value(json_object_get(run, name));

	return v ? v : "";
}

/* Add text indented by indent spaces a line, without its trailing newlines. */
static void add_indented(struct ds_buf *b, int indent, const char *text)
{
	size_t n = strlen(text);

	while (n && text[n - 1] == '\n')
		n--;
	ds_buf_addf(b, "%*s", indent, "");
	for (size_t i = 0; i < n; i++) {
		ds_buf_add(b, text + i, 1);
		if (text[i] == '\n')
			ds_buf_addf(b, "%*s", indent, "");
	}
	ds_buf_add(b, "\n", 1);
}

/* "  started T  ended T  (1.234s)", or "-" for a time not known. */
static void add_times(struct ds_buf *b, json_t *run)
{
	json_t *duration = json_object_get(run, "duration_ms");

	ds_buf_addf(b, "  started %s  ended %s",
		    *field(run, "started_at") ? field(run, "started_at") : "-",
		    *field(run, "finished_at") ? field(run, "finished_at") : "-");
	if (json_is_integer(duration))
		ds_buf_addf(b, "  (%.3fs)", (double)json_integer_value(duration) / 1000);
}

/* The error and the output of an attempt, indented by indent. */
static void add_error_output(struct ds_buf *b, int indent, json_t *run)
{
	if (*field(run, "error")) {
		ds_buf_addf(b, "%*serror%s%s%s:\n", indent, "",
			    *field(run, "error_class") ? " [" : "", field(run, "error_class"),
			    *field(run, "error_class") ? "]" : "");
		add_indented(b, indent + 2, field(run, "error"));
	}
	if (*field(run, "output")) {
		ds_buf_addf(b, "%*soutput:\n", indent, "");
		add_indented(b, indent + 2, field(run, "output"));
	}
}

/*
 * An attempt before the last: it failed and was retried, or its connection refused it
 * and it waited for it (end_run records it as class unreachable), which used no retry:
 * said as the worker and why say it, the connection named once.
 */
static void add_earlier_attempt(struct ds_buf *b, json_t *a)
{
	int waited = !strcmp(field(a, "error_class"), "unreachable");

	ds_buf_addf(b, "  attempt %lld  ",
		    (long long)json_integer_value(json_object_get(a, "attempt")));
	if (waited)
		ds_buf_addf(b, "waited for connection %s", field(a, "connection"));
	else
		ds_buf_addf(b, "failed, retried");
	add_times(b, a);
	if (*field(a, "worker"))
		ds_buf_addf(b, "  worker %s", field(a, "worker"));
	if (*field(a, "connection") && !waited)
		ds_buf_addf(b, "  connection %s", field(a, "connection"));
	ds_buf_add(b, "\n", 1);
	add_error_output(b, 4, a);
}

/*
 * For people: a block per run, since its output and error span lines. The first line
 * says what became of it and when; the next what it ran and where. Caller frees.
 */
static char *history_text(json_t *runs)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *run;

	json_array_foreach(runs, i, run)
	{
		const char *version = field(run, "version");
		json_t *earlier, *a;
		size_t j;

		if (i)
			ds_buf_add(&b, "\n", 1);
		ds_buf_addf(&b, "run %lld  %s",
			    (long long)json_integer_value(json_object_get(run, "run")),
			    field(run, "state"));
		if (json_is_true(json_object_get(run, "marked"))) {
			ds_buf_addf(&b, "  marked by %s at %s: %s\n", field(run, "marked_by"),
				    field(run, "finished_at"), field(run, "reason"));
		} else {
			ds_buf_addf(&b, "  attempt %lld",
				    (long long)json_integer_value(json_object_get(run, "attempt")));
			add_times(&b, run);
			ds_buf_add(&b, "\n", 1);
		}
		ds_buf_addf(&b, "  batch %lld (%s)",
			    (long long)json_integer_value(json_object_get(run, "batch")),
			    field(run, "batch_kind"));
		if (*field(run, "worker"))
			ds_buf_addf(&b, "  worker %s", field(run, "worker"));
		ds_buf_addf(&b, "  version %.12s  table %s", *version ? version : "-",
			    field(run, "table"));
		/* Said only for a named connection; none is the state database. */
		if (*field(run, "connection"))
			ds_buf_addf(&b, "  connection %s", field(run, "connection"));
		ds_buf_add(&b, "\n", 1);
		add_error_output(&b, 2, run);
		earlier = json_object_get(run, "earlier_attempts");
		json_array_foreach(earlier, j, a)
		{
			add_earlier_attempt(&b, a);
		}
	}
	return ds_buf_take(&b);
}

static int run_logs(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	out->data =
		ds_run_history(&s->db, inv->args[0], inv->nargs > 1 ? inv->args[1] : "", &s->err);
	if (!out->data)
		return -1;
	out->text = history_text(out->data);
	return 0;
}

const struct ds_command ds_cmd_logs = {
	.name = "logs",
	.group = "runs",
	.synopsis = "TASK [KEY]",
	.summary = "show every run of one key of a task, newest first",
	.description =
		"For each run of the key: its id and batch, the worker, how many attempts it\n"
		"took, when it was queued, started and ended and how long it took, its state,\n"
		"the error and its class, the command's output (for a SQL task, the notices\n"
		"and warnings it raised), the version of the task it ran, the table it\n"
		"wrote (production's, or a swap's T_backfill) and, for a SQL task on a named\n"
		"connection, that connection (none: the state database); then each of its earlier\n"
		"attempts that failed and was retried (or lost with a worker), or that waited\n"
		"for its connection, which refused it (class unreachable). A key marked\n"
		"done by a person (mark) shows who and why. A task without keys takes '' or\n"
		"no KEY.",
	.example = "logs orders_daily 2024-01-17",
	.complete = "TASK KEY",
	.min_args = 1,
	.max_args = 2,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_logs,
};
