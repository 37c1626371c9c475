/* lexer.c: POSIX-shell word splitting for command lines. */
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "lexer.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void push_word(struct ds_words *w, struct ds_buf *word)
{
	w->v = ds_xrealloc(w->v, (size_t)(w->n + 2) * sizeof(*w->v));
	w->v[w->n] = ds_buf_take(word);
	w->n++;
	w->v[w->n] = NULL;
}

/* The shared scanner; partial says whether an unfinished line is an error. */
static int split(const char *line, struct ds_words *w, int partial, struct ds_error *err)
{
	struct ds_buf word = DS_BUF_INIT;
	int in_word = 0;
	const char *p = line;

	memset(w, 0, sizeof(*w));
	w->v = ds_xmalloc(sizeof(*w->v));
	w->v[0] = NULL;
	while (*p) {
		int col = (int)(p - line) + 1;

		if (is_blank(*p)) {
			if (in_word)
				push_word(w, &word);
			in_word = 0;
			p++;
			continue;
		}
		if (!in_word) {
			if (*p == '#')
				break; /* a comment runs to the end of the line */
			in_word = 1;
			ds_buf_add(&word, "", 0); /* '' is a word, an empty one */
		}
		if (*p == '\\') {
			if (!p[1]) {
				if (partial)
					break;
				free(ds_buf_take(&word));
				ds_words_release(w);
				ds_error_set(err, DS_ERR_USAGE, "trailing backslash at column %d",
					     col);
				err->column = col;
				return -1;
			}
			ds_buf_add(&word, p + 1, 1);
			p += 2;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;

			while (*p && *p != q) {
				if (q == '"' && *p == '\\' && p[1] && strchr("\\\"$`", p[1]))
					p++;
				ds_buf_add(&word, p++, 1);
			}
			if (!*p) {
				if (partial) {
					break;
				}
				free(ds_buf_take(&word));
				ds_words_release(w);
				ds_error_set(err, DS_ERR_USAGE,
					     "unterminated %s quote at column %d",
					     q == '"' ? "double" : "single", col);
				err->column = col;
				return -1;
			}
			p++;
		} else {
			ds_buf_add(&word, p++, 1);
		}
	}
	if (in_word)
		push_word(w, &word);
	free(ds_buf_take(&word));
	return 0;
}

int ds_split(const char *line, struct ds_words *w, struct ds_error *err)
{
	return split(line, w, 0, err);
}

void ds_split_partial(const char *line, struct ds_words *w)
{
	split(line, w, 1, NULL);
}

void ds_words_release(struct ds_words *w)
{
	for (int i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof(*w));
}
