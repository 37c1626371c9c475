/*
 * dispatch.c: from words to a command run: look the command up, parse its options,
 * check its arity, make sure the server and the schema are there if it needs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "../command.h"

void ds_result_release(struct ds_result *r)
{
	json_decref(r->data);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

const struct ds_command *ds_command_find(const char *name)
{
	for (int i = 0; ds_commands[i]; i++)
		if (!strcmp(ds_commands[i]->name, name))
			return ds_commands[i];
	return NULL;
}

int ds_command_unknown(const char *name, struct ds_error *err)
{
	const char *names[64];
	const char *best;
	int n = 0;

	for (int i = 0; ds_commands[i] && n < 63; i++)
		names[n++] = ds_commands[i]->name;
	names[n] = NULL;
	best = ds_closest(name, names);
	if (best)
		ds_error_set(err, DS_ERR_USAGE, "unknown command '%s' (did you mean '%s'?)", name,
			     best);
	else
		ds_error_set(err, DS_ERR_USAGE, "unknown command '%s'", name);
	return ds_error_hint(err, "'help' lists the commands");
}

/* The value slot of an option by name, or NULL if the command has no such option. */
static const struct ds_optval *find_val(const struct ds_invocation *inv, const char *name)
{
	int ncommon = ds_opt_count(ds_common_opts);

	for (int i = 0; i < ncommon; i++)
		if (!strcmp(ds_common_opts[i].name, name))
			return &inv->vals[i];
	for (int i = 0; inv->cmd->opts && inv->cmd->opts[i].name; i++)
		if (!strcmp(inv->cmd->opts[i].name, name))
			return &inv->vals[ncommon + i];
	return NULL;
}

int ds_inv_flag(const struct ds_invocation *inv, const char *name)
{
	const struct ds_optval *v = find_val(inv, name);

	return v && v->set;
}

const char *ds_inv_string(const struct ds_invocation *inv, const char *name)
{
	const struct ds_optval *v = find_val(inv, name);

	return v && v->set ? v->str : NULL;
}

long ds_inv_int(const struct ds_invocation *inv, const char *name, long fallback)
{
	const struct ds_optval *v = find_val(inv, name);

	return v && v->set ? v->num : fallback;
}

static int check_arity(const struct ds_command *cmd, int nargs, struct ds_error *err)
{
	if (nargs >= cmd->min_args && (cmd->max_args < 0 || nargs <= cmd->max_args))
		return 0;
	if (cmd->max_args == 0)
		ds_error_set(err, DS_ERR_USAGE, "'%s' takes no arguments", cmd->name);
	else if (nargs < cmd->min_args)
		ds_error_set(err, DS_ERR_USAGE, "'%s' needs %s%d argument%s", cmd->name,
			     cmd->max_args == cmd->min_args ? "" : "at least ", cmd->min_args,
			     cmd->min_args == 1 ? "" : "s");
	else
		ds_error_set(err, DS_ERR_USAGE, "'%s' takes at most %d argument%s", cmd->name,
			     cmd->max_args, cmd->max_args == 1 ? "" : "s");
	return ds_error_hint(err, "usage: %s%s%s", cmd->name, cmd->synopsis[0] ? " " : "",
			     cmd->synopsis);
}

/* --help on any command: its help page, and the same as data for --json. */
static void command_help_result(const struct ds_command *cmd, struct ds_result *out)
{
	json_t *opts = json_array();
	const struct ds_opt *tables[] = { ds_common_opts, cmd->opts };

	for (int t = 0; t < 2; t++)
		for (int i = 0; tables[t] && tables[t][i].name; i++)
			json_array_append_new(opts, json_pack("{s:s, s:s?, s:s}", "name",
							      tables[t][i].name, "argument",
							      tables[t][i].arg, "help",
							      tables[t][i].help));
	out->data = json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "command", cmd->name, "synopsis",
			      cmd->synopsis, "summary", cmd->summary, "options", opts, "writes",
			      !!(cmd->flags & DS_CMD_WRITES), "destructive",
			      !!(cmd->flags & DS_CMD_DESTRUCTIVE));
	out->text = ds_command_help(cmd);
}

/* "pipeline pause": the command and, for one that has actions, the action. */
static char *command_words(const struct ds_invocation *inv)
{
	if (inv->cmd->words && inv->nargs > 0)
		return ds_xprintf("%s %s", inv->cmd->name, inv->args[0]);
	return ds_xstrdup(inv->cmd->name);
}

/*
 * The server refused a statement for want of a privilege: say which role the command
 * needs, who the user is, and how to get it, keeping the server's words in the hint.
 */
static void explain_refusal(struct ds_session *s, const struct ds_invocation *inv)
{
	char said[sizeof(s->err.message)];
	const char *user = PQuser(s->db.conn);
	char *what;

	if (strcmp(s->err.sqlstate, "42501") || !s->role)
		return;
	snprintf(said, sizeof(said), "%s", s->err.message);
	what = command_words(inv);
	ds_error_set(&s->err, DS_ERR_FAILED, "%s needs the %s role (you are %s)", what, s->role,
		     user);
	ds_error_hint(&s->err,
		      "a database administrator can run: GRANT %s TO %s; the server "
		      "said: %s",
		      s->role, user, said);
	free(what);
}

/* The line to record: as typed, or the words when there was no line. Caller frees. */
static char *line_of(const struct ds_session *s, int argc, char **argv)
{
	struct ds_buf b = DS_BUF_INIT;

	if (s->line)
		return ds_xstrdup(s->line);
	for (int i = 0; i < argc; i++)
		ds_buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	return ds_buf_take(&b);
}

/*
 * Run the command. One that may change state has its audit row begun here and finished
 * here, whether it wrote the row with its change or failed (see core/audit.h).
 */
static int run_command(struct ds_session *s, const struct ds_invocation *inv, int argc, char **argv,
		       struct ds_result *out)
{
	int writes = (inv->cmd->flags & DS_CMD_WRITES) != 0, rc;

	if (writes) {
		char *line = line_of(s, argc, argv);

		ds_audit_begin(&s->audit, line);
		free(line);
	}
	rc = inv->cmd->run(s, inv, out);
	if (rc < 0)
		explain_refusal(s, inv);
	if (writes) {
		ds_audit_finish(&s->db, &s->audit, rc, &s->err);
		ds_audit_release(&s->audit);
	}
	return rc;
}

static int run_parsed(struct ds_session *s, const struct ds_invocation *inv, int argc, char **argv,
		      struct ds_result *out)
{
	const struct ds_command *cmd = inv->cmd;

	s->role = cmd->role;
	if (check_arity(cmd, inv->nargs, &s->err) < 0)
		return -1;
	if ((cmd->flags & DS_CMD_SERVER) && ds_session_connect(s) < 0)
		return -1;
	if ((cmd->flags & DS_CMD_SCHEMA) && ds_store_require_current(&s->db, &s->err) < 0) {
		explain_refusal(s, inv);
		return -1;
	}
	if (cmd->flags & DS_CMD_WRITES)
		ds_complete_forget(s); /* new tasks, graphs and batches complete at once */
	if (run_command(s, inv, argc, argv, out) < 0) {
		ds_result_release(out);
		return -1;
	}
	if (!out->data)
		out->data = json_object();
	return 0;
}

int ds_dispatch(struct ds_session *s, int argc, char **argv, struct ds_result *out)
{
	struct ds_invocation inv = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	ds_error_clear(&s->err);
	inv.cmd = ds_command_find(argv[0]);
	if (!inv.cmd)
		return ds_command_unknown(argv[0], &s->err);
	inv.vals = calloc((size_t)(ds_opt_count(ds_common_opts) + ds_opt_count(inv.cmd->opts)),
			  sizeof(*inv.vals));
	if (ds_opt_parse(inv.cmd->name, inv.cmd->opts, argc, argv, inv.vals, &inv.args, &inv.nargs,
			 &s->err) < 0) {
		free(inv.vals);
		return -1;
	}
	out->json = ds_inv_flag(&inv, "json");
	out->csv = ds_inv_flag(&inv, "csv");
	if (out->json && out->csv) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'%s' takes --json or --csv, not both",
			     inv.cmd->name);
		rc = -1;
	} else if (ds_inv_flag(&inv, "help")) {
		command_help_result(inv.cmd, out);
		rc = 0;
	} else {
		rc = run_parsed(s, &inv, argc, argv, out);
	}
	free(inv.vals);
	free(inv.args);
	return rc;
}

/* Options and description of one command, as its help page. Caller frees. */
char *ds_command_help(const struct ds_command *cmd)
{
	const struct ds_opt *tables[] = { ds_common_opts, cmd->opts };
	struct ds_buf b = DS_BUF_INIT;

	ds_buf_addf(&b, "usage: %s%s%s\n  %s\n", cmd->name, cmd->synopsis[0] ? " " : "",
		    cmd->synopsis, cmd->summary);
	if (cmd->description)
		ds_buf_addf(&b, "\n%s\n", cmd->description);
	ds_buf_addf(&b, "\noptions:\n");
	for (int t = 0; t < 2; t++)
		for (int i = 0; tables[t] && tables[t][i].name; i++) {
			char head[64];

			snprintf(head, sizeof(head), "--%s%s%s", tables[t][i].name,
				 tables[t][i].arg ? " " : "",
				 tables[t][i].arg ? tables[t][i].arg : "");
			ds_buf_addf(&b, "  %-22s %s\n", head, tables[t][i].help);
		}
	if (cmd->example)
		ds_buf_addf(&b, "\nexample:\n  %s\n", cmd->example);
	return ds_buf_take(&b);
}
