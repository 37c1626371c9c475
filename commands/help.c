/* help: list the commands, or show one command's synopsis, options and example. */
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "command.h"

static int help_one(struct ds_session *s, const char *name, struct ds_result *out)
{
	const struct ds_command *cmd = ds_command_find(name);
	const char *argv[] = { name, "--help", NULL };

	if (!cmd) {
		ds_error_set(&s->err, DS_ERR_FAILED, "no help for '%s': no such command", name);
		return ds_error_hint(&s->err, "'help' lists the commands");
	}
	/* The same page a command prints for --help, so the two cannot differ. */
	return ds_dispatch(s, 2, (char **)argv, out);
}

/* Whether an earlier row of the table already opened this command's group. */
static int group_seen(int upto, const char *group)
{
	for (int i = 0; i < upto; i++)
		if (!strcmp(ds_commands[i]->group, group))
			return 1;
	return 0;
}

static int run_help(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	struct ds_buf b = DS_BUF_INIT;
	json_t *list;

	if (inv->nargs == 1)
		return help_one(s, inv->args[0], out);
	list = json_array();
	for (int i = 0; ds_commands[i]; i++) {
		const char *group = ds_commands[i]->group;

		if (group_seen(i, group))
			continue;
		/* The group's heading, then its commands in table order. */
		ds_buf_addf(&b, "%s%c%s\n", i ? "\n" : "", group[0] - 'a' + 'A', group + 1);
		for (int j = i; ds_commands[j]; j++) {
			const struct ds_command *c = ds_commands[j];
			char *synopsis;

			if (strcmp(c->group, group))
				continue;
			synopsis = ds_command_synopsis(c);
			json_array_append_new(list,
					      json_pack("{s:s, s:s, s:s, s:s}", "name", c->name,
							"group", c->group, "synopsis", synopsis,
							"summary", c->summary));
			free(synopsis);
			ds_buf_addf(&b, "  %-10s %s\n", c->name, c->summary);
		}
	}
	ds_buf_addf(&b, "\n'help COMMAND' shows a command's synopsis, options and an example;\n"
			"every command also takes --help, --json, --csv and --wide.\n");
	out->data = json_pack("{s:o}", "commands", list);
	out->text = ds_buf_take(&b);
	return 0;
}

const struct ds_command ds_cmd_help = {
	.name = "help",
	.group = "shell",
	.synopsis = "[COMMAND]",
	.summary = "list the commands, or show one command's synopsis and options",
	.example = "help status",
	.complete = "COMMAND",
	.min_args = 0,
	.max_args = 1,
	.run = run_help,
};
