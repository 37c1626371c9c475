/*
 * dispatch.c: from words to a command run: look the command up, parse its options
 * (the common ones are here), check its arity, make sure the server and the schema are
 * there if it needs them, pick its action, and run it under its audit row.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "../command.h"
#include "action.h"

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

/* The options every command takes. */
static const struct ds_opt always_opts[] = {
	DS_OPT_BOOL("help", struct ds_invocation, help, "show this command's synopsis and options"),
	DS_OPT_BOOL("json", struct ds_invocation, json, "print the result as one JSON document"),
	DS_OPT_BOOL("csv", struct ds_invocation, csv, "print the result's rows as CSV"),
	DS_OPT_BOOL("wide", struct ds_invocation, wide,
		    "show every column in full, however wide the terminal"),
	DS_OPT_END,
};

static const struct ds_opt dry_run_opts[] = {
	DS_OPT_BOOL("dry-run", struct ds_invocation, dry_run,
		    "show what would be done, change nothing"),
	DS_OPT_END,
};

/* As dbt's --exclude: the tasks a selector names less those these name. */
static const struct ds_opt selects_opts[] = {
	DS_OPT_LIST("exclude", struct ds_invocation, exclude, "SELECTOR",
		    "leave out the tasks this selector names (repeatable)"),
	DS_OPT_END,
};

/* --yes of a command that can destroy or hide data: a script cannot do without it. */
static const struct ds_opt yes_opts[] = {
	DS_OPT_BOOL("yes", struct ds_invocation, yes,
		    "do not ask for confirmation (needed in a script)"),
	DS_OPT_END,
};

/* --yes of a command that asks only a person at a terminal, and only before much work. */
static const struct ds_opt yes_at_terminal_opts[] = {
	DS_OPT_BOOL("yes", struct ds_invocation, yes,
		    "do not ask for confirmation of a large change"),
	DS_OPT_END,
};

/* The tables of the options an action, or a command with no actions, takes of its own. */
static int own_sets(const struct ds_command *cmd, const struct ds_action *action, void *own,
		    struct ds_opt_set *sets)
{
	int n = 0;

	if (!cmd->actions) {
		if (cmd->opts)
			sets[n++] = (struct ds_opt_set){ cmd->opts, own };
		return n;
	}
	for (const struct ds_action *a = cmd->actions; a->name; a++) {
		const struct ds_opt *tables[] = { a->shared_opts, a->opts };

		if (action && a != action)
			continue;
		for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
			int seen = 0;

			if (!tables[t])
				continue;
			/* Actions may share a table (swap and rollback): list it once. */
			for (int i = 0; i < n; i++)
				seen |= sets[i].opts == tables[t];
			if (!seen) {
				assert(n < DS_OPT_SETS_MAX - 3); /* after the common tables */
				sets[n++] = (struct ds_opt_set){ tables[t], own };
			}
		}
	}
	return n;
}

int ds_command_opt_sets(const struct ds_command *cmd, const struct ds_action *action,
			struct ds_invocation *inv, void *own, struct ds_opt_set *sets)
{
	unsigned flags = action ? cmd->flags | action->flags : ds_command_flags(cmd);
	int n = 0;

	sets[n++] = (struct ds_opt_set){ always_opts, inv };
	if (flags & DS_CMD_DRY_RUN)
		sets[n++] = (struct ds_opt_set){ dry_run_opts, inv };
	if (flags & DS_CMD_SELECTS)
		sets[n++] = (struct ds_opt_set){ selects_opts, inv };
	if (flags & DS_CMD_DESTRUCTIVE)
		sets[n++] = (struct ds_opt_set){ yes_opts, inv };
	else if (flags & DS_CMD_ASKS)
		sets[n++] = (struct ds_opt_set){ yes_at_terminal_opts, inv };
	return n + own_sets(cmd, action, own, sets + n);
}

static int check_arity(const struct ds_command *cmd, int nargs, struct ds_error *err)
{
	int min, max;
	char *synopsis;

	ds_command_arity(cmd, &min, &max);
	if (nargs >= min && (max < 0 || nargs <= max))
		return 0;
	if (max == 0)
		ds_error_set(err, DS_ERR_USAGE, "'%s' takes no arguments", cmd->name);
	else if (nargs < min)
		ds_error_set(err, DS_ERR_USAGE, "'%s' needs %s%d argument%s", cmd->name,
			     max == min ? "" : "at least ", min, min == 1 ? "" : "s");
	else
		ds_error_set(err, DS_ERR_USAGE, "'%s' takes at most %d argument%s", cmd->name, max,
			     max == 1 ? "" : "s");
	synopsis = ds_command_synopsis(cmd);
	ds_error_hint(err, "usage: %s%s%s", cmd->name, synopsis[0] ? " " : "", synopsis);
	free(synopsis);
	return -1;
}

/* "pipeline pause": the command and, for one that has actions, the action. */
static char *command_words(const struct ds_invocation *inv)
{
	if (inv->action)
		return ds_xprintf("%s %s", inv->cmd->name, inv->action->name);
	/* Refused before its action was picked: the word that names it. */
	if (inv->cmd->actions && inv->nargs > 0)
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
 * Run the command, or its action. One that may change state has its audit row begun
 * here and finished here, whether it wrote the row with its change or failed (see
 * core/audit.h).
 */
static int run_command(struct ds_session *s, const struct ds_invocation *inv, int argc, char **argv,
		       struct ds_result *out)
{
	int writes = (ds_invocation_flags(inv) & DS_CMD_WRITES) != 0, rc;

	if (writes) {
		char *line = line_of(s, argc, argv);

		ds_audit_begin(&s->audit, line);
		free(line);
		/* A dry run changes nothing: it leaves no row. */
		s->audit.unchanged = inv->dry_run;
	}
	rc = inv->action ? inv->action->run(s, inv, out) : inv->cmd->run(s, inv, out);
	if (rc < 0)
		explain_refusal(s, inv);
	if (writes) {
		/* A result shown as a failure (out->failed) is recorded as one. */
		ds_audit_finish(&s->db, &s->audit, rc < 0 || out->failed ? -1 : rc, &s->err);
		ds_audit_release(&s->audit);
	}
	return rc;
}

/* The action the words name, and the role it needs if more than the command's. */
static int pick_action(struct ds_session *s, struct ds_invocation *inv)
{
	if (ds_action_pick(inv, &s->err) < 0)
		return -1;
	if (inv->action->role)
		s->role = inv->action->role;
	return 0;
}

static int run_parsed(struct ds_session *s, struct ds_invocation *inv, int argc, char **argv,
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
	if (cmd->actions && pick_action(s, inv) < 0)
		return -1;
	if (ds_invocation_flags(inv) & DS_CMD_WRITES)
		ds_complete_forget(s); /* new tasks, graphs and batches complete at once */
	if (run_command(s, inv, argc, argv, out) < 0) {
		ds_result_release(out);
		return -1;
	}
	if (!out->data)
		out->data = json_object();
	return 0;
}

/* The command's options struct, as its defaults say. Caller frees. */
static void *new_opts(const struct ds_command *cmd)
{
	void *own;

	if (!cmd->opts_size)
		return NULL;
	own = ds_xmalloc(cmd->opts_size);
	if (cmd->opts_defaults)
		memcpy(own, cmd->opts_defaults, cmd->opts_size);
	else
		memset(own, 0, cmd->opts_size);
	return own;
}

/* Parse argv into inv and the options struct own, which inv->opts then points at. */
static int parse_invocation(const struct ds_command *cmd, int argc, char **argv, void *own,
			    struct ds_invocation *inv, struct ds_opt_parsed *p,
			    struct ds_error *err)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, inv, own, sets);

	inv->cmd = cmd;
	inv->opts = own;
	if (ds_opt_parse(cmd->name, sets, nsets, argc, argv, p, err) < 0)
		return -1;
	inv->args = p->words;
	inv->nargs = p->nwords;
	inv->given = p->given;
	inv->ngiven = p->ngiven;
	return 0;
}

/*
 * How the result prints: as the command says (status --csv), else as the program was
 * told (datashell --json).
 */
static void set_output(const struct ds_session *s, const struct ds_invocation *inv,
		       struct ds_result *out)
{
	int own = inv->json || inv->csv;

	out->json = own ? inv->json : s->output.json;
	out->csv = own ? inv->csv : s->output.csv;
	out->wide = inv->wide || s->output.wide;
}

/* The common options first: --help instead of the command, and how to print its result. */
static int run_invocation(struct ds_session *s, struct ds_invocation *inv, int argc, char **argv,
			  struct ds_result *out)
{
	if (inv->json && inv->csv) {
		ds_error_set(&s->err, DS_ERR_USAGE, "'%s' takes --json or --csv, not both",
			     inv->cmd->name);
		return -1;
	}
	if (inv->help)
		ds_command_help_result(inv->cmd, out);
	else if (run_parsed(s, inv, argc, argv, out) < 0)
		return -1;
	set_output(s, inv, out);
	return 0;
}

int ds_dispatch(struct ds_session *s, int argc, char **argv, struct ds_result *out)
{
	const struct ds_command *cmd = ds_command_find(argv[0]);
	struct ds_invocation inv = { 0 };
	struct ds_opt_parsed parsed;
	void *own;
	int rc;

	memset(out, 0, sizeof(*out));
	ds_error_clear(&s->err);
	if (!cmd)
		return ds_command_unknown(argv[0], &s->err);
	own = new_opts(cmd);
	rc = parse_invocation(cmd, argc, argv, own, &inv, &parsed, &s->err);
	if (rc == 0)
		rc = run_invocation(s, &inv, argc, argv, out);
	ds_opt_parsed_release(&parsed);
	free(own);
	return rc;
}
