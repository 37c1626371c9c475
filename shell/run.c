/* run.c: one command line from text to result, and how errors are shown. */
#include <stdio.h>
#include <unistd.h>

#include "lexer.h"
#include "render.h"
#include "shell.h"

void ds_shell_report(const struct ds_error *err, const struct ds_where *where, const char *line)
{
	int colour = ds_colour_wanted(STDERR_FILENO);
	const char *red = colour ? "\033[1;31m" : "", *yellow = colour ? "\033[33m" : "",
		   *reset = colour ? "\033[0m" : "";

	if (where) {
		fputs("datashell:", stderr);
		if (where->file)
			fprintf(stderr, " %s:%d:", where->file, where->line);
		fprintf(stderr, " %serror:%s %s\n", red, reset, err->message);
	} else {
		fprintf(stderr, "%serror:%s %s\n", red, reset, err->message);
		/* At a terminal, point at the column under the line as typed. */
		if (err->column && line)
			fprintf(stderr, "  %s\n  %*s^\n", line, err->column - 1, "");
	}
	if (err->hint[0])
		fprintf(stderr, "%shint:%s %s\n", yellow, reset, err->hint);
	fflush(stderr);
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
		ds_result_release(&r);
	}
	s->line = NULL;
	ds_words_release(&w);
	return rc;
}
