/*
 * action.c: what a command's rows say once its actions are counted in: its flags, its
 * synopsis and arity, and which action a line names and whether it was given what
 * that action takes.
 */
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "action.h"

const struct ds_action *ds_action_find(const struct ds_command *cmd, const char *name)
{
	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* The action run when no word names one, or NULL. */
static const struct ds_action *default_action(const struct ds_command *cmd)
{
	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		if (a->flags & DS_ACTION_DEFAULT)
			return a;
	return NULL;
}

unsigned ds_command_flags(const struct ds_command *cmd)
{
	unsigned flags = cmd->flags;

	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		flags |= a->flags & ~(unsigned)DS_ACTION_DEFAULT;
	return flags;
}

unsigned ds_invocation_flags(const struct ds_invocation *inv)
{
	return inv->cmd->flags | (inv->action ? inv->action->flags : 0);
}

/* "start|stop|status": the names of the actions. Caller frees. */
static char *action_names(const struct ds_command *cmd)
{
	struct ds_buf b = DS_BUF_INIT;

	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		ds_buf_addf(&b, "%s%s", a == cmd->actions ? "" : "|", a->name);
	return ds_buf_take(&b);
}

char *ds_command_synopsis(const struct ds_command *cmd)
{
	int more = 0;
	char *names, *synopsis;

	if (!cmd->actions)
		return ds_xstrdup(cmd->synopsis);
	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		more |= a->synopsis[0] != '\0';
	names = action_names(cmd);
	synopsis = ds_xprintf(default_action(cmd) ? "[%s]%s" : "%s%s", names, more ? " ..." : "");
	free(names);
	return synopsis;
}

void ds_command_arity(const struct ds_command *cmd, int *min, int *max)
{
	*min = cmd->min_args;
	*max = cmd->max_args;
	if (!cmd->actions)
		return;
	/* The action's name, then its own words. */
	*min = default_action(cmd) ? 0 : 1;
	*max = 1;
	for (const struct ds_action *a = cmd->actions; a && a->name; a++) {
		if (a->max_args < 0) {
			*max = -1;
			return;
		}
		if (a->max_args + 1 > *max)
			*max = a->max_args + 1;
	}
}

char *ds_action_usage(const struct ds_command *cmd, const struct ds_action *a)
{
	return ds_xprintf(a->flags & DS_ACTION_DEFAULT ? "%s [%s]%s%s" : "%s %s%s%s", cmd->name,
			  a->name, a->synopsis[0] ? " " : "", a->synopsis);
}

static int unknown_action(const struct ds_command *cmd, const char *word, struct ds_error *err)
{
	const char **names = NULL;
	const char *best;
	char *all;
	int n = 0;

	for (const struct ds_action *a = cmd->actions; a && a->name; a++) {
		names = ds_xrealloc(names, (size_t)(n + 2) * sizeof(*names));
		names[n++] = a->name;
		names[n] = NULL;
	}
	best = ds_closest(word, names);
	free(names);
	if (best)
		ds_error_set(err, DS_ERR_USAGE, "unknown action '%s %s' (did you mean '%s %s'?)",
			     cmd->name, word, cmd->name, best);
	else
		ds_error_set(err, DS_ERR_USAGE, "unknown action '%s %s'", cmd->name, word);
	all = action_names(cmd);
	ds_error_hint(err, "usage: %s %s", cmd->name, all);
	free(all);
	return -1;
}

/* Whether one of the tables in sets holds the row o. */
static int sets_hold(const struct ds_opt_set *sets, int nsets, const struct ds_opt *o)
{
	for (int i = 0; i < nsets; i++)
		for (const struct ds_opt *row = sets[i].opts; row->name; row++)
			if (row == o)
				return 1;
	return 0;
}

/* Fill err with a misuse of action a, and its usage as the hint; returns -1. */
static int misuse(const struct ds_command *cmd, const struct ds_action *a, struct ds_error *err)
{
	char *usage = ds_action_usage(cmd, a);

	ds_error_hint(err, "usage: %s", usage);
	free(usage);
	return -1;
}

/* The options given must be among those the action takes. */
static int check_options(const struct ds_invocation *inv, const struct ds_action *a,
			 struct ds_error *err)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(inv->cmd, a, NULL, NULL, sets);

	for (int i = 0; i < inv->ngiven; i++)
		if (!sets_hold(sets, nsets, inv->given[i])) {
			ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes no option '--%s'",
				     inv->cmd->name, a->name, inv->given[i]->name);
			return misuse(inv->cmd, a, err);
		}
	return 0;
}

/* The action takes nwords words after its name. */
static int check_words(const struct ds_command *cmd, const struct ds_action *a, int nwords,
		       struct ds_error *err)
{
	if (nwords >= a->min_args && (a->max_args < 0 || nwords <= a->max_args))
		return 0;
	if (a->max_args == 0)
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes no arguments", cmd->name, a->name);
	else if (nwords < a->min_args)
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' needs %s", cmd->name, a->name,
			     a->max_args < 0 ? "at least one argument" : "an argument");
	else
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes %s", cmd->name, a->name,
			     a->max_args == 1 ? "one argument" : "fewer arguments");
	return misuse(cmd, a, err);
}

int ds_action_pick(struct ds_invocation *inv, struct ds_error *err)
{
	const struct ds_action *a =
		inv->nargs ? ds_action_find(inv->cmd, inv->args[0]) : default_action(inv->cmd);
	int named = inv->nargs > 0;

	/* No word and no default action: the arity check has said so already. */
	if (!a)
		return unknown_action(inv->cmd, named ? inv->args[0] : "", err);
	if (check_options(inv, a, err) < 0 || check_words(inv->cmd, a, inv->nargs - named, err) < 0)
		return -1;
	inv->action = a;
	inv->args += named;
	inv->nargs -= named;
	return 0;
}

/* "with reset, trip: ": the actions that take o, when not all of them do. Caller frees. */
static char *taken_by(const struct ds_command *cmd, const struct ds_opt *o)
{
	struct ds_buf names = DS_BUF_INIT;
	int all = 1, some = 0;
	char *list, *prefix;

	for (const struct ds_action *a = cmd->actions; a && a->name; a++) {
		struct ds_opt_set sets[DS_OPT_SETS_MAX];
		int nsets = ds_command_opt_sets(cmd, a, NULL, NULL, sets);

		if (sets_hold(sets, nsets, o))
			ds_buf_addf(&names, "%s%s", some++ ? ", " : "", a->name);
		else
			all = 0;
	}
	list = ds_buf_take(&names);
	prefix = all ? ds_xstrdup("") : ds_xprintf("with %s: ", list);
	free(list);
	return prefix;
}

char *ds_option_help(const struct ds_command *cmd, const struct ds_opt *o)
{
	char *actions = taken_by(cmd, o), *help = ds_xprintf("%s%s", actions, o->help);

	free(actions);
	return help;
}
