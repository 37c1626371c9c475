/*
 * errclass.h: what kind of failure an error is. A run's error (and, for SQL, its
 * SQLSTATE) is matched against rules: the task's own, then its file's, then the
 * built-in ones. The class decides what follows: "transient" failures are retried with
 * backoff, "fatal" ones are not and open the task's breaker at once, and a class a
 * pipeline defines says which of the two it behaves like. An error no rule matches is
 * of class "error" and is retried as the task's "retries" say.
 */
#ifndef DS_ERRCLASS_H
#define DS_ERRCLASS_H

#include <stddef.h>

#include <jansson.h>

/* Retries a retrying class gets even when the task's "retries" is lower. */
#define DS_TRANSIENT_RETRIES 3

struct ds_error_verdict {
	char class_name[64];
	int retry; /* retrying may help: at least DS_TRANSIENT_RETRIES attempts */
	int fatal; /* no retry, and the breaker opens at once */
};

/*
 * Classify error (sqlstate may be NULL or empty) by rules, a JSON array of
 * {"class", "pattern", "sqlstate", "retry"} as datashell-pipelines(5) describes (NULL
 * for none), then by the built-in rules.
 */
void ds_error_classify(json_t *rules, const char *error, const char *sqlstate,
		       struct ds_error_verdict *v);

/*
 * Whether pattern is a valid PCRE2 pattern. If not, msg gets PCRE2's message and
 * *offset the character where it went wrong. Returns 0 or -1.
 */
int ds_error_pattern_check(const char *pattern, char *msg, size_t size, size_t *offset);

/* Whether sqlstate is a SQLSTATE (5 characters) or a class of them (2). */
int ds_error_sqlstate_valid(const char *sqlstate);

#endif
