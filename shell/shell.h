/* shell.h: what the modes of the shell (interactive, batch) share. */
#ifndef DS_SHELL_H
#define DS_SHELL_H

#include "../commands/command.h"

/*
 * Where a command came from, for messages: file "deploy.ds", line 12. A -c command has
 * no file; a command typed at the terminal has no ds_where at all.
 */
struct ds_where {
	const char *file;
	int line;
};

/*
 * Split and run one command line, print its result on stdout and any error on stderr.
 * Returns 0, or -1 with s->err saying why (its kind decides the exit code).
 */
int ds_shell_run_line(struct ds_session *s, const char *line, const struct ds_where *where);

/*
 * The width output for people fits: on a terminal, $COLUMNS if set (as psql), else the
 * terminal's; 0 (no limit) when stdout is not a terminal.
 */
int ds_shell_width(void);

/*
 * Print a result on stdout; on a terminal, fitted to its width (ds_render_set_width)
 * unless the result is for scripts or --wide, and long output goes through the pager.
 */
void ds_shell_print(const struct ds_result *r);

/* Print an error the way the shell does: location, message, hint. */
void ds_shell_report(const struct ds_error *err, const struct ds_where *where, const char *line);

/* The interactive loop; returns the exit code. */
int ds_repl(struct ds_session *s);

/* The readline completion entry point, and the session it reads names through. */
char **ds_complete(const char *text, int start, int end);
void ds_complete_init(struct ds_session *s);

#endif
