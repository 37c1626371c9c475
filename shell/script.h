/*
 * script.h: reading commands from a script: one command per line, blank lines and
 * lines starting with # skipped, a trailing backslash joining the next line.
 */
#ifndef DS_SCRIPT_H
#define DS_SCRIPT_H

#include <stdio.h>

struct ds_script {
	FILE *f;
	const char *name; /* for messages: a file name or "<stdin>"; NULL for -c */
	int lineno;	  /* lines read so far */
};

/*
 * The next command into *line (caller frees) and the line it started on into *first.
 * Returns 1 for a command, 0 at the end of the script.
 */
int ds_script_next(struct ds_script *sc, char **line, int *first);

#endif
