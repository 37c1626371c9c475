/*
 * errclass.c: classifying run failures with PCRE2 patterns and SQLSTATEs. Failures are
 * rare, so the patterns are compiled when one happens rather than kept.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <pcre2.h>

#include "errclass.h"

struct rule {
	const char *class_name;
	const char *sqlstate; /* a SQLSTATE or its two-character class, or NULL */
	const char *pattern;  /* matched against the error text, or NULL */
};

/*
 * The built-in rules. SQLSTATEs first: they are exact where the text is not. Then the
 * words that commands and drivers print for the same troubles.
 */
static const struct rule builtin[] = {
	{ "transient", "08", NULL },	/* connection exception */
	{ "transient", "40001", NULL }, /* serialization failure */
	{ "transient", "40P01", NULL }, /* deadlock detected */
	{ "transient", "55P03", NULL }, /* lock not available: lock_timeout */
	{ "transient", "53300", NULL }, /* too many connections */
	{ "transient", "57P01", NULL }, /* the server is shutting down */
	{ "transient", "57P02", NULL },
	{ "transient", "57P03", NULL }, /* the server is starting up */
	{ "fatal", "42", NULL },	/* syntax error, undefined table, permission denied */
	{ "fatal", "53200", NULL },	/* out of memory */
	{ "fatal", "3F000", NULL },	/* no such schema */
	{ "transient", NULL,
	  "(?i)connection (refused|reset|timed out)|server closed the connection|"
	  "lost (the )?connection|could not connect|deadlock|lock timeout|could not serialize|"
	  "temporar(il)?y unavailable|too many connections|try again" },
	{ "fatal", NULL,
	  "(?i)syntax error|permission denied|out of memory|command not found|"
	  "does not exist" },
};

static int sqlstate_matches(const char *want, const char *got)
{
	if (!want)
		return 1;
	if (!got || !got[0])
		return 0;
	return !strncmp(want, got, strlen(want) == 2 ? 2 : 5);
}

static int pattern_matches(const char *pattern, const char *text)
{
	PCRE2_SIZE offset;
	pcre2_match_data *md;
	int code, rc;
	pcre2_code *re;

	if (!pattern)
		return 1;
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	if (!re)
		return 0; /* checked at load; a bad pattern matches nothing */
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)(text ? text : ""), PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

static int rule_matches(const struct rule *r, const char *error, const char *sqlstate)
{
	/* A rule with neither would match everything: not a rule. */
	if (!r->sqlstate && !r->pattern)
		return 0;
	return sqlstate_matches(r->sqlstate, sqlstate) && pattern_matches(r->pattern, error);
}

static void verdict(struct ds_error_verdict *v, const char *class_name, int retry)
{
	snprintf(v->class_name, sizeof(v->class_name), "%s", class_name);
	v->retry = retry;
	v->fatal = !retry;
}

void ds_error_classify(json_t *rules, const char *error, const char *sqlstate,
		       struct ds_error_verdict *v)
{
	size_t i;
	json_t *j;

	json_array_foreach(rules, i, j)
	{
		struct rule r = {
			json_string_value(json_object_get(j, "class")),
			json_string_value(json_object_get(j, "sqlstate")),
			json_string_value(json_object_get(j, "pattern")),
		};
		json_t *retry = json_object_get(j, "retry");

		if (r.class_name && rule_matches(&r, error, sqlstate)) {
			verdict(v, r.class_name,
				json_is_boolean(retry) ? json_is_true(retry)
						       : strcmp(r.class_name, "fatal") != 0);
			return;
		}
	}
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (rule_matches(&builtin[i], error, sqlstate)) {
			verdict(v, builtin[i].class_name,
				!strcmp(builtin[i].class_name, "transient"));
			return;
		}
	snprintf(v->class_name, sizeof(v->class_name), "error");
	v->retry = 0;
	v->fatal = 0;
}

int ds_error_pattern_check(const char *pattern, char *msg, size_t size, size_t *offset)
{
	PCRE2_SIZE where;
	int code;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
				       &where, NULL);

	if (re) {
		pcre2_code_free(re);
		return 0;
	}
	pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, size);
	*offset = (size_t)where;
	return -1;
}

int ds_error_sqlstate_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != 2 && n != 5)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]))
			return 0;
	return 1;
}
