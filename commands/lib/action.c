/* action.c: picking a command's action and checking what it was given. */
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"
#include "action.h"

static const struct ds_action *find_action(const struct ds_command *cmd, const char *word,
					   const struct ds_action *actions, size_t n,
					   struct ds_error *err)
{
	const char *best;
	struct ds_buf names = DS_BUF_INIT;
	char *all;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(actions[i].name, word))
			return &actions[i];
	best = cmd->words ? ds_closest(word, cmd->words) : NULL;
	if (best)
		ds_error_set(err, DS_ERR_USAGE, "unknown action '%s %s' (did you mean '%s %s'?)",
			     cmd->name, word, cmd->name, best);
	else
		ds_error_set(err, DS_ERR_USAGE, "unknown action '%s %s'", cmd->name, word);
	for (size_t i = 0; i < n; i++)
		ds_buf_addf(&names, "%s%s", i ? "|" : "", actions[i].name);
	all = ds_buf_take(&names);
	ds_error_hint(err, "usage: %s %s", cmd->name, all);
	free(all);
	return NULL;
}

/* The options every command takes, whatever its action. */
static int takes_option(const struct ds_action *a, const char *name)
{
	if (!strcmp(name, "help") || !strcmp(name, "json") || !strcmp(name, "csv"))
		return 1;
	for (const char *const *o = a->options; o && *o; o++)
		if (!strcmp(*o, name))
			return 1;
	return 0;
}

/* The words and options given must be the ones the action takes. */
static int check_action_args(const struct ds_command *cmd, const struct ds_action *a,
			     const struct ds_invocation *inv, struct ds_error *err)
{
	int words = inv->nargs ? inv->nargs - 1 : 0; /* none: the first action's */

	for (int i = 0; i < inv->ngiven; i++)
		if (!takes_option(a, inv->given[i]->name)) {
			ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes no option '--%s'", cmd->name,
				     a->name, inv->given[i]->name);
			return ds_error_hint(err, "usage: %s", a->usage);
		}
	if (words >= a->min_words && (a->max_words < 0 || words <= a->max_words))
		return 0;
	if (a->max_words == 0)
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes no arguments", cmd->name, a->name);
	else if (words < a->min_words)
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' needs %s", cmd->name, a->name,
			     a->max_words < 0 ? "at least one argument" : "an argument");
	else
		ds_error_set(err, DS_ERR_USAGE, "'%s %s' takes %s", cmd->name, a->name,
			     a->max_words == 1 ? "one argument" : "fewer arguments");
	return ds_error_hint(err, "usage: %s", a->usage);
}

int ds_run_action(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out,
		  const struct ds_action *actions, size_t nactions)
{
	const struct ds_action *a =
		inv->nargs ? find_action(inv->cmd, inv->args[0], actions, nactions, &s->err)
			   : &actions[0];

	if (!a || check_action_args(inv->cmd, a, inv, &s->err) < 0)
		return -1;
	if (a->role)
		s->role = a->role;
	s->audit.unchanged = !a->role || inv->dry_run;
	return a->run(s, inv, out);
}
