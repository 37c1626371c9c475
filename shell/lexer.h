/*
 * lexer.h: splitting a command line into words the way a POSIX shell does: blanks
 * separate words, single quotes keep everything, double quotes keep everything but
 * backslash escapes of \ " $ and `, a backslash outside quotes escapes any character,
 * and # at the start of a word begins a comment.
 */
#ifndef DS_LEXER_H
#define DS_LEXER_H

#include "../core/error.h"

struct ds_words {
	char **v; /* NULL-terminated */
	int n;
};

/*
 * Split line into words. An unterminated quote or a trailing lone backslash is an error
 * whose column points at it. Release with ds_words_release().
 */
int ds_split(const char *line, struct ds_words *w, struct ds_error *err);

/*
 * As ds_split, but for a line still being typed (tab completion): an unterminated
 * quote ends the last word instead of failing.
 */
void ds_split_partial(const char *line, struct ds_words *w);

void ds_words_release(struct ds_words *w);

#endif
