/* run.c: one command line from text to result, and how errors are shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"
#include "lexer.h"
#include "render.h"
#include "shell.h"

/*
 * Show an error. Messages quote what was typed, so a password in it is masked here as
 * everywhere else.
 */
void ds_shell_report(const struct ds_error *err, const struct ds_where *where, const char *line)
{
	char *message = ds_redact_secrets(err->message), *hint = ds_redact_secrets(err->hint);
	int colour = ds_colour_wanted(STDERR_FILENO);
	const char *red = colour ? "\033[1;31m" : "", *yellow = colour ? "\033[33m" : "",
		   *reset = colour ? "\033[0m" : "";

	if (where) {
		fputs("datashell:", stderr);
		if (where->file)
			fprintf(stderr, " %s:%d:", where->file, where->line);
		fprintf(stderr, " %serror:%s %s\n", red, reset, message);
	} else {
		char *shown = line ? ds_redact_secrets(line) : NULL;

		fprintf(stderr, "%serror:%s %s\n", red, reset, message);
		/*
		 * At a terminal, point at the column under the line as typed, unless a
		 * password had to be masked: the columns would no longer match.
		 */
		if (err->column && shown && !strcmp(shown, line))
			fprintf(stderr, "  %s\n  %*s^\n", line, err->column - 1, "");
		free(shown);
	}
	if (hint[0])
		fprintf(stderr, "%shint:%s %s\n", yellow, reset, hint);
	fflush(stderr);
	free(message);
	free(hint);
}

int ds_shell_run_line(struct ds_session *s, const char *line, const struct ds_where *where)
{
	struct ds_words w;
	struct ds_result r;
	int rc = 0;

	ds_error_clear(&s->err);
	if (ds_split(line, &w, &s->err) < 0) {
		ds_shell_report(&s->err, where, line);
		return -1;
	}
	if (w.n == 0) {
		ds_words_release(&w);
		return 0;
	}
	s->line = line;
	if (ds_dispatch(s, w.n, w.v, &r) < 0) {
		ds_shell_report(&s->err, where, line);
		rc = -1;
	} else {
		ds_shell_print(&r);
		if (r.failed) {
			ds_shell_report(&s->err, where, line);
			rc = -1;
		}
		ds_result_release(&r);
	}
	s->line = NULL;
	ds_words_release(&w);
	return rc;
}
