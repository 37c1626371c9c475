/*
 * test_commands: the command table holds together. A row binds options to fields by
 * offset and reaches its options struct through a void pointer, and actions split a
 * command's words, options and flags between them; the compiler cannot check those
 * across rows, so this does, for every command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../commands/command.h"
#include "../../commands/lib/action.h"
#include "tap.h"

static char problem[256];

/* Say what is wrong with a row; NULL when nothing is. */
#define WRONG(...) (snprintf(problem, sizeof(problem), __VA_ARGS__), problem)

/* The size of the field an option fills. */
static size_t field_size(const struct ds_opt *o)
{
	if (o->type == DS_OPT_T_BOOL)
		return sizeof(int);
	return o->type == DS_OPT_T_INT ? sizeof(long) : sizeof(const char *);
}

/* Each option of cmd has one row, and its own rows fill fields inside its options struct. */
static const char *options_wrong(const struct ds_command *cmd)
{
	static char own;
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, NULL, &own, sets);

	for (int t = 0; t < nsets; t++)
		for (const struct ds_opt *o = sets[t].opts; o->name; o++) {
			if (ds_opt_find(sets, nsets, o->name, strlen(o->name)) != o)
				return WRONG("two rows for --%s", o->name);
			if (sets[t].fill == &own && o->offset + field_size(o) > cmd->opts_size)
				return WRONG("--%s fills a field past the options struct", o->name);
		}
	return NULL;
}

/* A destructive action or command also shows what it would do. */
static const char *flags_wrong(const char *name, unsigned flags)
{
	if ((flags & DS_CMD_DESTRUCTIVE) && !(flags & DS_CMD_DRY_RUN))
		return WRONG("%s is destructive but takes no --dry-run", name);
	return NULL;
}

/* Either actions or a run of its own; each action whole. */
static const char *row_wrong(const struct ds_command *cmd)
{
	if (!cmd->actions)
		return !cmd->run || !cmd->synopsis ? WRONG("no run or no synopsis")
						   : flags_wrong(cmd->name, cmd->flags);
	if (cmd->run || cmd->opts || cmd->synopsis || cmd->complete || cmd->min_args ||
	    cmd->max_args)
		return WRONG("actions, and a run, options, synopsis, completion or arity of its "
			     "own");
	for (const struct ds_action *a = cmd->actions; a->name; a++) {
		if (!a->synopsis || !a->summary || !a->run)
			return WRONG("action %s has no synopsis, summary or run", a->name);
		if (flags_wrong(a->name, a->flags))
			return problem;
	}
	return NULL;
}

static int default_actions(const struct ds_command *cmd)
{
	int n = 0;

	for (const struct ds_action *a = cmd->actions; a && a->name; a++)
		n += !!(a->flags & DS_ACTION_DEFAULT);
	return n;
}

int main(void)
{
	for (int i = 0; ds_commands[i]; i++) {
		const struct ds_command *cmd = ds_commands[i];
		char name[128];

		snprintf(name, sizeof(name), "%s: one row per option, each inside its struct",
			 cmd->name);
		tap_is_str(options_wrong(cmd), NULL, name);
		snprintf(name, sizeof(name), "%s: its row and its actions' rows are whole",
			 cmd->name);
		tap_is_str(row_wrong(cmd), NULL, name);
		snprintf(name, sizeof(name), "%s: one default action at most", cmd->name);
		tap_ok(default_actions(cmd) <= 1, name);
	}
	{
		static const struct {
			const char *command, *synopsis;
			int min, max;
		} derived[] = {
			{ "local", "start|stop|status", 1, 1 },
			{ "alerts", "[list|ack|resolve] ...", 0, -1 },
			{ "pipeline", "load|list|show|pause|resume ...", 1, -1 },
		};

		for (size_t i = 0; i < sizeof(derived) / sizeof(derived[0]); i++) {
			const struct ds_command *cmd = ds_command_find(derived[i].command);
			char *synopsis = ds_command_synopsis(cmd);
			int min, max;

			ds_command_arity(cmd, &min, &max);
			tap_is_str(synopsis, derived[i].synopsis, "a synopsis from the actions");
			tap_is_int(min, derived[i].min, "the fewest words, from the actions");
			tap_is_int(max, derived[i].max, "the most words, from the actions");
			free(synopsis);
		}
	}
	return tap_done();
}
