/*
 * sqlvars.c: expanding :'name' and :"name" in task SQL, the way psql does, with a
 * scanner that knows where SQL text is not code: literals, quoted identifiers,
 * dollar-quoted bodies and comments.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sqlvars.h"
#include "util.h"

const char *const ds_sql_known_vars[] = { "key",       "task",	  "target", "graph",
					  "key_start", "key_end", NULL };

char *ds_sql_literal(const char *value)
{
	struct ds_buf b = DS_BUF_INIT;
	int backslash = strchr(value, '\\') != NULL;

	/* As PQescapeLiteral: E'' only when backslashes need doubling. */
	ds_buf_add(&b, backslash ? " E'" : "'", backslash ? 3 : 1);
	for (const char *p = value; *p; p++) {
		if (*p == '\'' || *p == '\\')
			ds_buf_add(&b, p, 1);
		ds_buf_add(&b, p, 1);
	}
	ds_buf_add(&b, "'", 1);
	return ds_buf_take(&b);
}

/* Quote len bytes of value as one identifier into b. */
static void add_identifier(struct ds_buf *b, const char *value, size_t len)
{
	ds_buf_add(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '"')
			ds_buf_add(b, "\"", 1);
		ds_buf_add(b, value + i, 1);
	}
	ds_buf_add(b, "\"", 1);
}

/* "schema.table" as "schema"."table": each part quoted on its own. */
static void add_qualified(struct ds_buf *b, const char *value)
{
	const char *dot;

	while ((dot = strchr(value, '.'))) {
		add_identifier(b, value, (size_t)(dot - value));
		ds_buf_add(b, ".", 1);
		value = dot + 1;
	}
	add_identifier(b, value, strlen(value));
}

/* Where a piece of SQL that is not code ends: the index just past it. */
static size_t skip_quoted(const char *s, size_t i, char q, int backslashes)
{
	for (i++; s[i]; i++) {
		if (backslashes && s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == q && s[i + 1] == q)
			i++;
		else if (s[i] == q)
			return i + 1;
	}
	return i;
}

static size_t skip_block_comment(const char *s, size_t i)
{
	int depth = 0;

	while (s[i]) {
		if (s[i] == '/' && s[i + 1] == '*')
			depth++, i += 2;
		else if (s[i] == '*' && s[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else
			i++;
	}
	return i;
}

/* At a '$': the length of a dollar-quote tag ($$ or $tag$), or 0 if it is not one. */
static size_t dollar_tag(const char *s)
{
	size_t n = 1;

	if (isdigit((unsigned char)s[1]))
		return 0; /* $1, a parameter */
	while (isalnum((unsigned char)s[n]) || s[n] == '_' || (unsigned char)s[n] >= 0x80)
		n++;
	return s[n] == '$' ? n + 1 : 0;
}

static size_t skip_dollar(const char *s, size_t i, size_t tag)
{
	const char *end = NULL;

	for (const char *p = s + i + tag; (p = strchr(p, '$')); p++)
		if (!strncmp(p, s + i, tag)) {
			end = p;
			break;
		}
	return end ? (size_t)(end - s) + tag : strlen(s);
}

/* A variable reference at s[i] (":'name'" or ":\"name\""): its name's length, or 0. */
static size_t variable_at(const char *s, size_t i)
{
	char q = s[i + 1];
	size_t n = 0;

	if (s[i] != ':' || (q != '\'' && q != '"') || (i > 0 && s[i - 1] == ':'))
		return 0;
	while (isalnum((unsigned char)s[i + 2 + n]) || s[i + 2 + n] == '_')
		n++;
	return n && s[i + 2 + n] == q ? n : 0;
}

/* Called for each variable; returns -1 to stop the scan with err set. */
typedef int (*var_fn)(void *ctx, const char *name, size_t len, char quote, size_t offset,
		      struct ds_buf *out, struct ds_error *err);

/* Walk sql, copying it into out (if not NULL) and handing variables to fn. */
static int scan(const char *sql, var_fn fn, void *ctx, struct ds_buf *out, struct ds_error *err)
{
	size_t i = 0, from = 0, n;

	while (sql[i]) {
		size_t next = i + 1;

		if (sql[i] == '\'')
			next = skip_quoted(sql, i, '\'',
					   i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e'));
		else if (sql[i] == '"')
			next = skip_quoted(sql, i, '"', 0);
		else if (sql[i] == '-' && sql[i + 1] == '-')
			next = i + strcspn(sql + i, "\n");
		else if (sql[i] == '/' && sql[i + 1] == '*')
			next = skip_block_comment(sql, i);
		else if (sql[i] == '$' && (n = dollar_tag(sql + i)))
			next = skip_dollar(sql, i, n);
		else if (sql[i] == ':' && sql[i + 1] == ':')
			next = i + 2;
		else if ((n = variable_at(sql, i))) {
			if (out)
				ds_buf_add(out, sql + from, i - from);
			if (fn(ctx, sql + i + 2, n, sql[i + 1], i, out, err) < 0)
				return -1;
			next = from = i + n + 3;
		}
		i = next;
	}
	if (out)
		ds_buf_add(out, sql + from, i - from);
	return 0;
}

static int check_one(void *ctx, const char *name, size_t len, char quote, size_t offset,
		     struct ds_buf *out, struct ds_error *err)
{
	const char *const *known = ctx;
	char *given;
	const char *best;

	(void)quote;
	(void)out;
	for (int k = 0; known[k]; k++)
		if (strlen(known[k]) == len && !strncmp(known[k], name, len))
			return 0;
	given = ds_xprintf("%.*s", (int)len, name);
	best = ds_closest(given, known);
	ds_error_set(err, DS_ERR_FAILED, "unknown variable '%s' at character %zu%s%s%s", given,
		     offset + 1, best ? " (did you mean '" : "", best ? best : "",
		     best ? "'?)" : "");
	ds_error_hint(err, "task SQL may use :'key', :\"target\", :'task', :'graph', :'key_start' "
			   "and :'key_end'");
	if (err)
		err->column = (int)offset + 1;
	free(given);
	return -1;
}

int ds_sql_check_vars(const char *sql, const char *const *known, struct ds_error *err)
{
	return scan(sql, check_one, (void *)known, NULL, err);
}

struct expand_ctx {
	const struct ds_sqlvar *vars;
	int nvars;
};

static int expand_one(void *ctx, const char *name, size_t len, char quote, size_t offset,
		      struct ds_buf *out, struct ds_error *err)
{
	const struct expand_ctx *e = ctx;

	for (int i = 0; i < e->nvars; i++) {
		const struct ds_sqlvar *v = &e->vars[i];
		char *lit;

		if (strlen(v->name) != len || strncmp(v->name, name, len))
			continue;
		if (!v->value)
			return ds_error_set(err, DS_ERR_FAILED,
					    "variable '%s' at character %zu has no value here",
					    v->name, offset + 1);
		if (quote == '"' && v->qualified) {
			add_qualified(out, v->value);
		} else if (quote == '"') {
			add_identifier(out, v->value, strlen(v->value));
		} else {
			lit = ds_sql_literal(v->value);
			ds_buf_add(out, lit, strlen(lit));
			free(lit);
		}
		return 0;
	}
	return ds_error_set(err, DS_ERR_FAILED, "unknown variable '%.*s' at character %zu",
			    (int)len, name, offset + 1);
}

char *ds_sql_expand(const char *sql, const struct ds_sqlvar *vars, int nvars, struct ds_error *err)
{
	struct expand_ctx ctx = { vars, nvars };
	struct ds_buf out = DS_BUF_INIT;

	if (scan(sql, expand_one, &ctx, &out, err) < 0) {
		free(ds_buf_take(&out));
		return NULL;
	}
	return ds_buf_take(&out);
}
