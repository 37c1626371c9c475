/* local: start, stop or inspect the private PostgreSQL cluster behind --local. */

#include "../core/util.h"
#include "command.h"

static const char *state_name(enum ds_local_state st)
{
	return st == DS_LOCAL_RUNNING ? "running" : st == DS_LOCAL_STOPPED ? "stopped" : "absent";
}

static json_t *describe(const struct ds_local *l, enum ds_local_state st)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "state", state_name(st),
			 "data_directory", l->datadir, "socket_directory", l->sockdir, "log_file",
			 l->logfile, "user", l->user, "connect_with", "datashell --local");
}

static int local_start(struct ds_session *s, const struct ds_local *l, struct ds_result *out)
{
	int created;

	if (ds_local_start(l, s->progress, s->progress_ctx, &created, &s->err) < 0)
		return -1;
	out->data = describe(l, DS_LOCAL_RUNNING);
	json_object_set_new(out->data, "created", json_boolean(created));
	out->text = ds_xprintf("the private server is running (socket in '%s'); "
			       "connect with 'datashell --local'",
			       l->sockdir);
	return 0;
}

static int local_stop(struct ds_session *s, const struct ds_local *l, struct ds_result *out)
{
	enum ds_local_state st;

	if (ds_local_state(l, &st, &s->err) < 0)
		return -1;
	if (st == DS_LOCAL_RUNNING) {
		/* Our own connection would only break; close it first. */
		if (s->opts.local)
			ds_db_release(&s->db);
		if (ds_local_stop(l, &s->err) < 0)
			return -1;
	}
	out->data = describe(l, st == DS_LOCAL_ABSENT ? DS_LOCAL_ABSENT : DS_LOCAL_STOPPED);
	json_object_set_new(out->data, "was_running", json_boolean(st == DS_LOCAL_RUNNING));
	out->text = ds_xstrdup(st == DS_LOCAL_RUNNING ? "stopped the private server"
						      : "the private server was not running");
	return 0;
}

static int local_status(struct ds_session *s, const struct ds_local *l, struct ds_result *out)
{
	enum ds_local_state st;

	if (ds_local_state(l, &st, &s->err) < 0)
		return -1;
	out->data = describe(l, st);
	return 0;
}

typedef int local_fn(struct ds_session *s, const struct ds_local *l, struct ds_result *out);

/* Run fn with the private cluster's paths, worked out from the environment. */
static int with_local(struct ds_session *s, local_fn *fn, struct ds_result *out)
{
	struct ds_local l;
	int rc;

	if (ds_local_init(&l, &s->err) < 0)
		return -1;
	rc = fn(s, &l, out);
	ds_local_release(&l);
	return rc;
}

static int run_start(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	return with_local(s, local_start, out);
}

static int run_stop(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	return with_local(s, local_stop, out);
}

static int run_status(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	return with_local(s, local_status, out);
}

static const struct ds_action local_actions[] = {
	{
		.name = "start",
		.synopsis = "",
		.summary = "create the private server if there is none, and start it",
		.run = run_start,
	},
	{
		.name = "stop",
		.synopsis = "",
		.summary = "stop the private server",
		.run = run_stop,
	},
	{
		.name = "status",
		.synopsis = "",
		.summary = "whether the private server exists and runs, and where it lives",
		.run = run_status,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_local = {
	.name = "local",
	.group = "state store",
	.summary = "manage the private PostgreSQL server that --local uses",
	.description = "The private cluster lives in $XDG_DATA_HOME/datashell/ (by default\n"
		       "~/.local/share/datashell/) and listens on a Unix socket there only.\n"
		       "'datashell --local' creates and starts it on first use.",
	.example = "local status",
	.actions = local_actions,
};
