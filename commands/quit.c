/* quit, exit: leave the shell. In a script they end it, successfully. */
#include "command.h"

static int run_quit(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	(void)out;
	s->quit = 1;
	return 0;
}

const struct ds_command ds_cmd_quit = {
	.name = "quit",
	.group = "shell",
	.synopsis = "",
	.summary = "leave the shell (as does Ctrl-D)",
	.run = run_quit,
};

const struct ds_command ds_cmd_exit = {
	.name = "exit",
	.group = "shell",
	.synopsis = "",
	.summary = "leave the shell, like quit",
	.run = run_quit,
};
