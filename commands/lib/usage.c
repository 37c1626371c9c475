/*
 * usage.c: a command's help page (COMMAND --help, help COMMAND), as text and as data
 * for --json, read from its row, its actions' rows and its option tables alone.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../core/util.h"
#include "../command.h"
#include "action.h"

/* "usage: breaker list", then "   or: breaker reset TASK ..." for each other action. */
static void add_usage(struct ds_buf *b, const struct ds_command *cmd)
{
	char *synopsis;

	if (!cmd->actions) {
		synopsis = ds_command_synopsis(cmd);
		ds_buf_addf(b, "usage: %s%s%s\n", cmd->name, synopsis[0] ? " " : "", synopsis);
		free(synopsis);
		return;
	}
	for (const struct ds_action *a = cmd->actions; a->name; a++) {
		char *usage = ds_action_usage(cmd, a);

		ds_buf_addf(b, "%s %s\n", a == cmd->actions ? "usage:" : "   or:", usage);
		free(usage);
	}
}

static void add_actions(struct ds_buf *b, const struct ds_command *cmd)
{
	if (!cmd->actions)
		return;
	ds_buf_addf(b, "\nactions:\n");
	for (const struct ds_action *a = cmd->actions; a->name; a++)
		ds_buf_addf(b, "  %-10s %s\n", a->name, a->summary);
}

static void add_options(struct ds_buf *b, const struct ds_command *cmd)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, NULL, NULL, sets);

	ds_buf_addf(b, "\noptions:\n");
	for (int t = 0; t < nsets; t++)
		for (const struct ds_opt *o = sets[t].opts; o->name; o++) {
			char *help = ds_option_help(cmd, o), head[64];

			snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			ds_buf_addf(b, "  %-22s %s\n", head, help);
			free(help);
		}
}

/* Usage, summary, description, actions, options and example of one command. Caller frees. */
static char *help_text(const struct ds_command *cmd)
{
	struct ds_buf b = DS_BUF_INIT;

	add_usage(&b, cmd);
	ds_buf_addf(&b, "  %s\n", cmd->summary);
	if (cmd->description)
		ds_buf_addf(&b, "\n%s\n", cmd->description);
	add_actions(&b, cmd);
	add_options(&b, cmd);
	if (cmd->example)
		ds_buf_addf(&b, "\nexample:\n  %s\n", cmd->example);
	return ds_buf_take(&b);
}

/* [{"name", "argument", "help"}] of every option of cmd. */
static json_t *options_data(const struct ds_command *cmd)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, NULL, NULL, sets);
	json_t *opts = json_array();

	for (int t = 0; t < nsets; t++)
		for (const struct ds_opt *o = sets[t].opts; o->name; o++) {
			char *help = ds_option_help(cmd, o);

			json_array_append_new(opts, json_pack("{s:s, s:s?, s:s}", "name", o->name,
							      "argument", o->arg, "help", help));
			free(help);
		}
	return opts;
}

/* [{"name", "usage", "summary", "writes", "destructive"}] of cmd's actions. */
static json_t *actions_data(const struct ds_command *cmd)
{
	json_t *actions = json_array();

	for (const struct ds_action *a = cmd->actions; a->name; a++) {
		char *usage = ds_action_usage(cmd, a);

		json_array_append_new(actions,
				      json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", a->name,
						"usage", usage, "summary", a->summary, "writes",
						!!(a->flags & DS_CMD_WRITES), "destructive",
						!!(a->flags & DS_CMD_DESTRUCTIVE)));
		free(usage);
	}
	return actions;
}

void ds_command_help_result(const struct ds_command *cmd, struct ds_result *out)
{
	unsigned flags = ds_command_flags(cmd);
	char *synopsis = ds_command_synopsis(cmd);

	out->data =
		json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "command", cmd->name, "synopsis",
			  synopsis, "summary", cmd->summary, "options", options_data(cmd), "writes",
			  !!(flags & DS_CMD_WRITES), "destructive", !!(flags & DS_CMD_DESTRUCTIVE));
	free(synopsis);
	if (cmd->actions)
		json_object_set_new(out->data, "actions", actions_data(cmd));
	out->text = help_text(cmd);
}
