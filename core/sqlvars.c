/*
 * sqlvars.c: expanding :'name' and :"name" in task SQL, the way psql does, with a
 * scanner that knows where SQL text is not code: literals, quoted identifiers,
 * dollar-quoted bodies and comments.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Past a quoted identifier ("a""b") whose opening quote is at s[i]. */
static size_t skip_identifier(const char *s, size_t i)
{
	for (i++; s[i]; i++) {
		if (s[i] == '"' && s[i + 1] == '"')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return i;
}

/*
 * At j, just past the closing quote of a string: where the quote of its continuation
 * is, or 0. As the server reads 'a'<newline>'b' as 'ab': the quotes are separated by
 * whitespace with at least one newline in it (-- comments count as whitespace).
 */
static size_t continuation(const char *s, size_t j)
{
	int newline = 0;

	for (;;) {
		if (s[j] == '\n' || s[j] == '\r')
			newline = 1, j++;
		else if (s[j] == ' ' || s[j] == '\t' || s[j] == '\f' || s[j] == '\v')
			j++;
		else if (s[j] == '-' && s[j + 1] == '-')
			j += strcspn(s + j, "\r\n");
		else
			return newline && s[j] == '\'' ? j : 0;
	}
}

/*
 * Past a string literal whose opening quote is at s[i], its continuations included. ''
 * is a quote; a backslash escapes the next character only in an E'' string (the server
 * runs with standard_conforming_strings, so it is a plain character in the others).
 */
static size_t skip_string(const char *s, size_t i, int backslashes)
{
	size_t next;

	for (i++; s[i]; i++) {
		if (backslashes && s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '\'' && s[i + 1] == '\'')
			i++;
		else if (s[i] == '\'' && !(next = continuation(s, i + 1)))
			return i + 1;
		else if (s[i] == '\'')
			i = next;
	}
	return i;
}

/* Past a block comment at s[i]; they nest. */
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

/* The server's identifier characters (scan.l's ident_start and ident_cont). */
static int ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (unsigned char)c >= 0x80;
}

static int ident_cont(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* At a '$' that starts a token: the length of a dollar-quote tag ($$ or $tag$), or 0. */
static size_t dollar_tag(const char *s)
{
	size_t n = 1;

	if (ident_start(s[1]))
		while (ident_cont(s[n]) && s[n] != '$')
			n++;
	return s[n] == '$' ? n + 1 : 0;
}

/* Past a dollar-quoted string whose tag (tag bytes) starts at s[i]. */
static size_t skip_dollar(const char *s, size_t i, size_t tag)
{
	for (const char *p = s + i + tag; (p = strchr(p, '$')); p++)
		if (!strncmp(p, s + i, tag))
			return (size_t)(p - s) + tag;
	return strlen(s);
}

/* A variable reference at s[i] (":'name'" or ":\"name\""): its name's length, or 0. */
static size_t variable_at(const char *s, size_t i)
{
	char q = s[i + 1];
	size_t n = 0;

	if (s[i] != ':' || (q != '\'' && q != '"'))
		return 0;
	while (ident_start(s[i + 2 + n]) || (s[i + 2 + n] >= '0' && s[i + 2 + n] <= '9'))
		n++;
	return n && s[i + 2 + n] == q ? n : 0;
}

/* Past whitespace and comments from i. */
static size_t skip_space(const char *s, size_t i)
{
	for (;;) {
		if (s[i] && strchr(" \t\n\r\f\v", s[i]))
			i++;
		else if (s[i] == '-' && s[i + 1] == '-')
			i += strcspn(s + i, "\r\n");
		else if (s[i] == '/' && s[i + 1] == '*')
			i = skip_block_comment(s, i);
		else
			return i;
	}
}

/* What the scanner tells apart. */
enum tok_kind { TOK_END, TOK_WORD, TOK_LITERAL, TOK_VAR, TOK_SEMI, TOK_OPEN, TOK_CLOSE, TOK_OTHER };

struct token {
	enum tok_kind kind;
	size_t start, end; /* s[start..end) */
};

/*
 * The token at or after i (after whitespace and comments), as the server's lexer
 * (scan.l) cuts them, plus psql's variables. A word takes every identifier character,
 * '$' included, so "a$b$" is one word and "ELSE'x'" a word and a plain string; a
 * prefix (E'', B'', X'', N'', U&'', U&"") counts only as a whole token.
 */
static void next_token(const char *s, size_t i, struct token *t)
{
	size_t n, j;

	i = skip_space(s, i);
	t->start = i;
	t->kind = TOK_OTHER;
	if (!s[i]) {
		t->kind = TOK_END;
		j = i;
	} else if (ident_start(s[i])) {
		for (j = i + 1; ident_cont(s[j]); j++)
			;
		t->kind = TOK_WORD;
		if (j == i + 1 && s[j] == '\'' && strchr("eE", s[i]))
			t->kind = TOK_LITERAL, j = skip_string(s, j, 1);
		else if (j == i + 1 && s[j] == '\'' && strchr("bBxXnN", s[i]))
			t->kind = TOK_LITERAL, j = skip_string(s, j, 0);
		else if (j == i + 1 && s[j] == '&' && s[j + 1] == '\'' && strchr("uU", s[i]))
			t->kind = TOK_LITERAL, j = skip_string(s, j + 1, 0);
		else if (j == i + 1 && s[j] == '&' && s[j + 1] == '"' && strchr("uU", s[i]))
			t->kind = TOK_LITERAL, j = skip_identifier(s, j + 1);
	} else if (s[i] >= '0' && s[i] <= '9') {
		/* A number: digits, '.', exponents, 0x prefixes, '_' separators. */
		for (j = i + 1; ident_start(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '.';
		     j++)
			;
	} else if (s[i] == '\'') {
		t->kind = TOK_LITERAL, j = skip_string(s, i, 0);
	} else if (s[i] == '"') {
		t->kind = TOK_LITERAL, j = skip_identifier(s, i);
	} else if (s[i] == '$' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		for (j = i + 1; s[j] >= '0' && s[j] <= '9'; j++) /* $1, a parameter */
			;
	} else if (s[i] == '$' && (n = dollar_tag(s + i))) {
		t->kind = TOK_LITERAL, j = skip_dollar(s, i, n);
	} else if (s[i] == ':' && s[i + 1] == ':') {
		j = i + 2; /* a cast */
	} else if ((n = variable_at(s, i))) {
		t->kind = TOK_VAR, j = i + n + 3;
	} else {
		t->kind = s[i] == ';'	? TOK_SEMI
			  : s[i] == '(' ? TOK_OPEN
			  : s[i] == ')' ? TOK_CLOSE
					: TOK_OTHER;
		j = i + 1;
	}
	t->end = j;
}

/* Called for each variable; returns -1 to stop the scan with err set. */
typedef int (*var_fn)(void *ctx, const char *name, size_t len, char quote, size_t offset,
		      struct ds_buf *out, struct ds_error *err);

/* Walk sql, copying it into out (if not NULL) and handing variables to fn. */
static int scan(const char *sql, var_fn fn, void *ctx, struct ds_buf *out, struct ds_error *err)
{
	size_t from = 0;
	struct token t;

	for (next_token(sql, 0, &t); t.kind != TOK_END; next_token(sql, t.end, &t)) {
		if (t.kind != TOK_VAR)
			continue;
		if (out)
			ds_buf_add(out, sql + from, t.start - from);
		if (fn(ctx, sql + t.start + 2, t.end - t.start - 3, sql[t.start + 1], t.start, out,
		       err) < 0)
			return -1;
		from = t.end;
	}
	if (out)
		ds_buf_add(out, sql + from, strlen(sql + from));
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

char *ds_sql_normalize(const char *sql)
{
	struct ds_buf out = DS_BUF_INIT;
	struct token t;

	for (next_token(sql, 0, &t); t.kind != TOK_END; next_token(sql, t.end, &t)) {
		if (out.len)
			ds_buf_add(&out, " ", 1);
		ds_buf_add(&out, sql + t.start, t.end - t.start);
	}
	return ds_buf_take(&out);
}

/* Whether token t is the word word (lower case), in any case. */
static int is_word(const char *s, const struct token *t, const char *word)
{
	size_t n = strlen(word);

	return t->kind == TOK_WORD && t->end - t->start == n && !strncasecmp(s + t->start, word, n);
}

/*
 * How many of the first words w[0..n) of a statement say that it ends or starts a
 * transaction (1 or 2), or 0. Savepoints (SAVEPOINT, RELEASE, ROLLBACK TO) stay
 * within the transaction and are not counted.
 */
static int control_words(const char *s, const struct token *w, int n)
{
	int k = 1;

	if (n < 1)
		return 0;
	if (is_word(s, &w[0], "begin") || is_word(s, &w[0], "commit") || is_word(s, &w[0], "end") ||
	    is_word(s, &w[0], "abort"))
		return 1;
	if (is_word(s, &w[0], "rollback")) {
		if (n > k && (is_word(s, &w[k], "work") || is_word(s, &w[k], "transaction")))
			k++;
		return n > k && is_word(s, &w[k], "to") ? 0 : 1;
	}
	if ((is_word(s, &w[0], "start") || is_word(s, &w[0], "prepare")) && n > 1 &&
	    is_word(s, &w[1], "transaction"))
		return 2;
	return 0;
}

/*
 * Whether a statement that starts with w[0..n) defines a routine with an SQL-standard
 * body (CREATE [OR REPLACE] FUNCTION|PROCEDURE), whose BEGIN ATOMIC ... END holds
 * semicolons that do not end the statement: psql's heuristic.
 */
static int is_routine(const char *s, const struct token *w, int n)
{
	int k = 1;

	if (n < 2 || !is_word(s, &w[0], "create"))
		return 0;
	if (n > 3 && is_word(s, &w[1], "or") && is_word(s, &w[2], "replace"))
		k = 3;
	return is_word(s, &w[k], "function") || is_word(s, &w[k], "procedure");
}

#define LEAD_WORDS 4

int ds_sql_transaction_control(const char *sql, size_t *offset, char **what)
{
	struct token t, w[LEAD_WORDS];
	int n = 0, parens = 0, depth = 0, k;

	for (next_token(sql, 0, &t);; next_token(sql, t.end, &t)) {
		if (t.kind == TOK_END || (t.kind == TOK_SEMI && !parens && !depth)) {
			if ((k = control_words(sql, w, n))) {
				*offset = w[0].start;
				*what = k == 1 ? ds_xprintf("%.*s", (int)(w[0].end - w[0].start),
							    sql + w[0].start)
					       : ds_xprintf("%.*s %.*s",
							    (int)(w[0].end - w[0].start),
							    sql + w[0].start,
							    (int)(w[1].end - w[1].start),
							    sql + w[1].start);
				return 1;
			}
			if (t.kind == TOK_END)
				return 0;
			n = parens = depth = 0;
			continue;
		}
		if (n < LEAD_WORDS)
			w[n++] = t;
		if (t.kind == TOK_OPEN)
			parens++;
		else if (t.kind == TOK_CLOSE && parens)
			parens--;
		else if (!parens && is_routine(sql, w, n) && is_word(sql, &t, "begin"))
			depth++;
		else if (!parens && depth && is_word(sql, &t, "case"))
			depth++;
		else if (!parens && depth && is_word(sql, &t, "end"))
			depth--;
	}
}

void ds_sql_position(const char *sql, size_t offset, int *line, int *column)
{
	*line = *column = 1;
	for (size_t i = 0; i < offset && sql[i]; i++) {
		if (sql[i] == '\n')
			++*line, *column = 1;
		else if (((unsigned char)sql[i] & 0xC0) != 0x80)
			++*column; /* a character, not the continuation of one */
	}
}
