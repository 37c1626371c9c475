/* util.h: small helpers shared by every layer: allocation that cannot fail quietly. */
#ifndef DS_UTIL_H
#define DS_UTIL_H

#include <stddef.h>

/* Like malloc/strdup, but abort with a message when memory runs out. Caller frees. */
void *ds_xmalloc(size_t n);
void *ds_xrealloc(void *p, size_t n);
char *ds_xstrdup(const char *s);

/* A newly allocated printf-formatted string; caller frees. */
char *ds_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Edit distance between a and b, capped: returns max + 1 as soon as the distance is
 * known to exceed max. Used for "did you mean" suggestions.
 */
int ds_edit_distance(const char *a, const char *b, int max);

/*
 * The candidate closest to word, or NULL if none is close enough to be a plausible
 * typo. candidates is NULL-terminated; the result points into it.
 */
const char *ds_closest(const char *word, const char *const *candidates);

/* s with every occurrence of from replaced by to. Caller frees. */
char *ds_replace_all(const char *s, const char *from, const char *to);

/*
 * A duration as people write it: a whole number and a unit, s, m, h, d or w ("90m",
 * "24h", "7d"). Returns the seconds, or -1 if text is not one.
 */
long ds_duration_parse(const char *text);

/* Seconds on a clock that does not jump. */
double ds_monotonic(void);

/*
 * The time now, for a log line: ISO 8601 in UTC with milliseconds,
 * "2026-12-03T09:14:07.123Z" (DS_STAMP_SIZE bytes with its NUL).
 */
#define DS_STAMP_SIZE 25
void ds_utc_stamp(char *buf, size_t size);

/*
 * Mask the secrets in a command line: password=... in a conninfo string, the
 * password of a URI (postgresql://user:secret@host) and password=... in its query,
 * in every spelling libpq's parser accepts (blanks around '=', quoted values with
 * backslash escapes, percent-encoded query names); when unsure, it masks more.
 * Caller frees. Everything that keeps or shows what was typed (history, audit log,
 * echo, errors) keeps or shows this instead.
 */
char *ds_redact_secrets(const char *line);

/* A growable string. Start with DS_BUF_INIT; take the text with ds_buf_take. */
struct ds_buf {
	char *s;
	size_t len, cap;
};

#define DS_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void ds_buf_addf(struct ds_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ds_buf_add(struct ds_buf *b, const char *s, size_t n);

/* The text built so far (never NULL); the caller frees it and b is empty again. */
char *ds_buf_take(struct ds_buf *b);

#endif
