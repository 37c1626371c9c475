/* util.c: allocation helpers, the edit distance behind "did you mean", durations. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "util.h"

static void out_of_memory(void)
{
	fputs("datashell: out of memory\n", stderr);
	abort();
}

void *ds_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *ds_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

char *ds_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory();
	return s;
}

char *ds_xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

/*
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of
 * two neighbours each cost one, since "kye" for "key" is one slip of the fingers.
 */
int ds_edit_distance(const char *a, const char *b, int max)
{
	size_t la = strlen(a), lb = strlen(b);
	int *base, *prev2, *prev, *row, result;

	if (la > 256 || lb > 256)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)max)
		return max + 1;
	base = prev2 = ds_xmalloc(3 * (lb + 1) * sizeof(int));
	prev = prev2 + lb + 1;
	row = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int best = row[0] = (int)i;

		for (size_t j = 1; j <= lb; j++) {
			int v = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max) {
			free(base);
			return max + 1;
		}
		{
			int *t = prev2;

			prev2 = prev;
			prev = row;
			row = t;
		}
	}
	result = prev[lb];
	free(base);
	return result;
}

const char *ds_closest(const char *word, const char *const *candidates)
{
	/* Allow about one typo per three characters, at least one, at most three. */
	int max = (int)strlen(word) / 3;
	const char *best = NULL;
	int best_d;

	if (max < 1)
		max = 1;
	if (max > 3)
		max = 3;
	best_d = max + 1;
	for (; *candidates; candidates++) {
		int d = ds_edit_distance(word, *candidates, max);

		if (d < best_d) {
			best_d = d;
			best = *candidates;
		}
	}
	return best;
}

void ds_buf_add(struct ds_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->s = ds_xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void ds_buf_addf(struct ds_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	ds_buf_add(b, s, strlen(s));
	free(s);
}

char *ds_replace_all(const char *s, const char *from, const char *to)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t n = strlen(from);
	const char *hit;

	while ((hit = strstr(s, from))) {
		ds_buf_add(&b, s, (size_t)(hit - s));
		ds_buf_add(&b, to, strlen(to));
		s = hit + n;
	}
	ds_buf_add(&b, s, strlen(s));
	return ds_buf_take(&b);
}

char *ds_buf_take(struct ds_buf *b)
{
	char *s = b->s ? b->s : ds_xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

long ds_duration_parse(const char *text)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	char *end;
	long n;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || end[0] == '\0' || end[1] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (*end == units[i].unit)
			return n <= LONG_MAX / units[i].seconds ? n * units[i].seconds : -1;
	return -1;
}

#define SECRET_MASK "***"

/*
 * The end of a keyword=value value at p, as libpq's conninfo parser reads it: a quoted
 * one ('...', a backslash escapes) with its quotes, else up to a blank that no
 * backslash escapes. A quote that ends the line or a word (the quotes around the
 * whole conninfo) is not part of it; nor, in a URI query, an '&'.
 */
static const char *value_end(const char *p, int in_query)
{
	const char *quote = *p == '\\' && p[1] == '\'' ? "\\'" : *p == '\'' ? "'" : NULL;

	if (quote) {
		/* '...', or \'...\' when the conninfo sits in another's quoted value. */
		size_t n = strlen(quote);

		for (p += n; *p && strncmp(p, quote, n); p++)
			if (*p == '\\' && p[1] && n == 1)
				p++;
		return *p ? p + n : p;
	}
	for (; *p && !isspace((unsigned char)*p); p++) {
		if (in_query && *p == '&')
			break;
		if ((*p == '\'' || *p == '"') && (!p[1] || isspace((unsigned char)p[1])))
			break;
		if (*p == '\\' && p[1])
			p++;
	}
	return p;
}

/* If p starts "password =" (blanks around '=' as libpq allows), where the value starts. */
static const char *password_value(const char *p)
{
	if (strncasecmp(p, "password", 8))
		return NULL;
	for (p += 8; isspace((unsigned char)*p); p++)
		;
	if (*p != '=')
		return NULL;
	for (p++; isspace((unsigned char)*p); p++)
		;
	return p;
}

/*
 * If p starts a URI query parameter ("?name=" or "&name=") whose name, percent-decoded
 * as libpq decodes it, is password: where its value starts; else NULL.
 */
static const char *query_password(const char *p)
{
	char name[16];
	size_t n = 0;

	if (*p != '?' && *p != '&')
		return NULL;
	for (p++; *p && *p != '=' && *p != '&' && !isspace((unsigned char)*p); p++) {
		int c = (unsigned char)*p;

		if (c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], '\0' };

			c = (int)strtol(hex, NULL, 16);
			p += 2;
		}
		if (n + 1 >= sizeof(name))
			return NULL;
		name[n++] = (char)c;
	}
	name[n] = '\0';
	return *p == '=' && !strcasecmp(name, "password") ? p + 1 : NULL;
}

/*
 * If p starts "://user:secret@", where the secret starts and (in *end) ends; else
 * NULL. As libpq reads a URI: the user part runs to the first '@' or '/', and the
 * password from its first ':' to that '@'.
 */
static const char *uri_password(const char *p, const char **end)
{
	const char *at, *colon;
	size_t n;

	if (strncmp(p, "://", 3))
		return NULL;
	p += 3;
	n = strcspn(p, "@/");
	at = p[n] == '@' ? p + n : NULL;
	colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (!colon)
		return NULL;
	*end = at;
	return colon + 1;
}

char *ds_redact_secrets(const char *line)
{
	struct ds_buf b = DS_BUF_INIT;
	const char *p = line, *v, *end;

	while (*p) {
		if ((v = query_password(p))) {
			end = value_end(v, 1);
		} else if ((v = password_value(p))) {
			end = value_end(v, 0);
		} else if ((v = uri_password(p, &end))) {
			;
		} else {
			ds_buf_add(&b, p++, 1);
			continue;
		}
		ds_buf_add(&b, p, (size_t)(v - p));
		if (end > v)
			ds_buf_addf(&b, SECRET_MASK);
		p = end;
	}
	return ds_buf_take(&b);
}

double ds_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ds_utc_stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}
