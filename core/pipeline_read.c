/*
 * pipeline_read.c: reading one pipeline file and checking what can be checked in it
 * alone: JSON syntax, known fields, types, names, durations, SQL variables.
 *
 * Every problem is recorded with the JSON path of the node it is about and reading
 * goes on, so that one load reports everything wrong with the files at once. A task
 * is kept for the checks across files (duplicates, references, cycles) as soon as it
 * has a usable name, even if other fields are wrong: otherwise one bad field would
 * also show up as "unknown task" wherever the task is an upstream.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "errclass.h"
#include "pipeline.h"
#include "sqlvars.h"

/* One file being read. */
struct reader {
	struct ds_pipeline *p;
	const char *file;
	int problems;
	json_t *file_rules; /* the file's own "error_classes", normalized */
};

static const char *const top_fields[] = { "connections", "graphs", "tasks", "error_classes", NULL };
static const char *const graph_fields[] = { "max_active", "paused",	"breaker",
					    "schedule",	  "connection", NULL };
static const char *const task_fields[] = { "name",	    "graph",	  "key",    "sql",
					   "command",	    "depends_on", "target", "retries",
					   "retry_delay",   "timeout",	  "checks", "complete_when",
					   "error_classes", "breaker",	  "sla",    "schedule",
					   "connection",    NULL };
static const char *const dep_fields[] = { "task", "offset", NULL };
static const char *const rule_fields[] = { "class", "pattern", "sqlstate", "retry", NULL };
static const char *const breaker_fields[] = { "failures", "window", "window_failures", "cooldown",
					      NULL };
static const char *const sla_fields[] = { "time", "days_after", "within", "timezone", NULL };
static const char *const schedule_fields[] = { "start",	   "delay", "catchup",	"lookback",
					       "timezone", "due",   "priority", NULL };
static const char *const catchup_words[] = { "all", "latest", NULL };
static const char *const due_words[] = { "end", "start", NULL };
static const char *const check_fields[] = { "name", "sql", NULL };
static const char *const key_kinds[] = { "daily", "hourly", "none", NULL };

#define DEFAULT_MAX_ACTIVE  4
#define DEFAULT_RETRY_DELAY 60
/* An SQL task's timeout becomes statement_timeout: milliseconds in an int. */
#define MAX_SQL_TIMEOUT (INT_MAX / 1000)

/* The path of field in the object at path: "tasks[3] (orders).retries". Caller frees. */
static char *path_of(const char *at, const char *field)
{
	return ds_xprintf("%s%s%s", at, at[0] && field[0] ? "." : "", field);
}

static void problem(struct reader *r, const char *at, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct reader *r, const char *at, const char *field, const char *fmt, ...)
{
	char *path = path_of(at, field);
	va_list ap;

	va_start(ap, fmt);
	ds_pipeline_vproblem(r->p, r->file, path, fmt, ap);
	va_end(ap);
	free(path);
	r->problems++;
}

/* The JSON type of v as a message names it: "got a string". */
static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a whole number";
	case JSON_REAL:
		return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int in_list(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(word, *list))
			return 1;
	return 0;
}

/* "unknown thing 'x'" with the closest of candidates, if one is close enough. */
static void unknown_word(struct reader *r, const char *at, const char *field, const char *what,
			 const char *word, const char *const *candidates)
{
	const char *best = ds_closest(word, candidates);

	if (best)
		problem(r, at, field, "unknown %s '%s' (did you mean '%s'?)", what, word, best);
	else
		problem(r, at, field, "unknown %s '%s'", what, word);
}

static void check_known_fields(struct reader *r, const char *at, json_t *obj,
			       const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) if (!in_list(key, known))
		unknown_word(r, at, "", "field", key, known);
}

/*
 * Names of tasks, graphs and checks: selectors use , + / : around them, so those
 * cannot be part of one.
 */
static int valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* A table name as :"target" quotes it: "table" or "schema.table", plain identifiers. */
static int valid_table(const char *s)
{
	int parts = 0;

	for (;;) {
		if (!isalpha((unsigned char)*s) && *s != '_')
			return 0;
		while (isalnum((unsigned char)*s) || *s == '_' || *s == '$')
			s++;
		parts++;
		if (!*s)
			return parts <= 2;
		if (*s++ != '.')
			return 0;
	}
}

/* Whether obj has field; null is the same as leaving a field out. */
static int present(json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);

	return v && !json_is_null(v);
}

/*
 * obj's field as a non-empty string. Absent reads as NULL, a problem only if required;
 * so does a value of another type, always a problem.
 */
static const char *get_string(struct reader *r, const char *at, json_t *obj, const char *field,
			      int required)
{
	json_t *v = json_object_get(obj, field);

	if (!present(obj, field)) {
		if (required)
			problem(r, at, "", "missing field '%s'", field);
		return NULL;
	}
	if (!json_is_string(v)) {
		problem(r, at, field, "expected a string, got %s", type_name(v));
		return NULL;
	}
	if (!json_string_length(v)) {
		problem(r, at, field, "is empty");
		return NULL;
	}
	return json_string_value(v);
}

/* A name: a string that valid_name() accepts, or NULL when absent or after a problem. */
static const char *get_name_of(struct reader *r, const char *at, json_t *obj, const char *field,
			       int required)
{
	const char *name = get_string(r, at, obj, field, required);

	if (name && !valid_name(name)) {
		problem(r, at, field,
			"invalid name '%s': use letters, digits, '_', '.' and '-', "
			"starting with a letter or '_'",
			name);
		return NULL;
	}
	return name;
}

static const char *get_name(struct reader *r, const char *at, json_t *obj, const char *field)
{
	return get_name_of(r, at, obj, field, 1);
}

/* A whole number in [min, max], or dflt when absent; dflt too after a problem. */
static int get_int(struct reader *r, const char *at, json_t *obj, const char *field, int min,
		   int max, int dflt)
{
	json_t *v = json_object_get(obj, field);
	json_int_t n;

	if (!present(obj, field))
		return dflt;
	if (!json_is_integer(v)) {
		problem(r, at, field, "expected a whole number, got %s", type_name(v));
		return dflt;
	}
	n = json_integer_value(v);
	if (n < min) {
		problem(r, at, field, "must be at least %d, got %" JSON_INTEGER_FORMAT, min, n);
		return dflt;
	}
	if (n > max) {
		problem(r, at, field, "must be at most %d, got %" JSON_INTEGER_FORMAT, max, n);
		return dflt;
	}
	return (int)n;
}

/* A duration in seconds, at least min: a whole number or a string as "5m"; dflt if absent. */
static int get_duration(struct reader *r, const char *at, json_t *obj, const char *field, int min,
			int dflt)
{
	json_t *v = json_object_get(obj, field);
	long seconds;

	if (!present(obj, field))
		return dflt;
	if (json_is_integer(v))
		return get_int(r, at, obj, field, min, INT_MAX, dflt);
	if (!json_is_string(v)) {
		problem(r, at, field,
			"expected seconds or a duration such as \"30s\", \"5m\", \"1h\" or \"7d\", "
			"got %s",
			type_name(v));
		return dflt;
	}
	seconds = ds_duration_parse(json_string_value(v));
	if (seconds < 0 || seconds > INT_MAX) {
		problem(r, at, field,
			"invalid duration '%s': give seconds or a duration such as \"30s\", \"5m\", "
			"\"1h\" or \"7d\"",
			json_string_value(v));
		return dflt;
	}
	if (seconds < min) {
		problem(r, at, field, "must be at least %ds, got '%s'", min, json_string_value(v));
		return dflt;
	}
	return (int)seconds;
}

/* true, false, or -1 when absent or after a problem. */
static int get_bool(struct reader *r, const char *at, json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);

	if (!present(obj, field))
		return -1;
	if (!json_is_boolean(v)) {
		problem(r, at, field, "expected true or false, got %s", type_name(v));
		return -1;
	}
	return json_is_true(v);
}

/* The array at field, NULL when absent or null, or after a problem. */
static json_t *get_array(struct reader *r, const char *at, json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);

	if (!present(obj, field))
		return NULL;
	if (!json_is_array(v)) {
		problem(r, at, field, "expected an array, got %s", type_name(v));
		return NULL;
	}
	return v;
}

/* An object at field, NULL when absent or after a problem; its fields checked. */
static json_t *get_object(struct reader *r, const char *at, json_t *obj, const char *field,
			  const char *const *known)
{
	json_t *v = json_object_get(obj, field);
	char *oat;

	if (!present(obj, field))
		return NULL;
	if (!json_is_object(v)) {
		problem(r, at, field, "expected an object, got %s", type_name(v));
		return NULL;
	}
	oat = path_of(at, field);
	check_known_fields(r, oat, v, known);
	free(oat);
	return v;
}

/* One error class rule, normalized to {class, pattern, sqlstate, retry}; NULL if bad. */
static json_t *read_rule(struct reader *r, const char *at, json_t *v)
{
	const char *class_name, *pattern, *sqlstate;
	char msg[256];
	size_t offset;
	int retry, bad = 0;

	if (!json_is_object(v)) {
		problem(r, at, "", "expected {\"class\": NAME, \"pattern\": REGEX}, got %s",
			type_name(v));
		return NULL;
	}
	check_known_fields(r, at, v, rule_fields);
	class_name = get_name(r, at, v, "class");
	pattern = get_string(r, at, v, "pattern", 0);
	sqlstate = get_string(r, at, v, "sqlstate", 0);
	retry = get_bool(r, at, v, "retry");
	if (pattern && ds_error_pattern_check(pattern, msg, sizeof(msg), &offset) < 0) {
		problem(r, at, "pattern", "invalid regular expression at character %zu: %s",
			offset + 1, msg);
		bad = 1;
	}
	if (sqlstate && !ds_error_sqlstate_valid(sqlstate)) {
		problem(r, at, "sqlstate",
			"invalid SQLSTATE '%s': give 5 characters (\"40P01\") or "
			"a class of 2 (\"08\")",
			sqlstate);
		bad = 1;
	}
	if (!present(v, "pattern") && !present(v, "sqlstate")) {
		problem(r, at, "", "needs a 'pattern', a 'sqlstate' or both");
		bad = 1;
	}
	if (class_name && retry >= 0 &&
	    (!strcmp(class_name, "transient") || !strcmp(class_name, "fatal")) &&
	    retry != !strcmp(class_name, "transient")) {
		problem(r, at, "retry", "class '%s' always %s", class_name,
			strcmp(class_name, "fatal") ? "retries" : "fails without a retry");
		bad = 1;
	}
	if (!class_name || bad)
		return NULL;
	if (retry < 0)
		retry = strcmp(class_name, "fatal") != 0;
	return json_pack("{s:s, s:s?, s:s?, s:b}", "class", class_name, "pattern", pattern,
			 "sqlstate", sqlstate, "retry", retry);
}

/* The "error_classes" of obj, normalized, then tail (the file's, for a task). */
static json_t *read_rules(struct reader *r, const char *at, json_t *obj, json_t *tail)
{
	json_t *list = get_array(r, at, obj, "error_classes"), *rules = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		char *rat = ds_xprintf("%s%serror_classes[%zu]", at, at[0] ? "." : "", i);
		json_t *rule = read_rule(r, rat, v);

		if (rule)
			json_array_append_new(rules, rule);
		free(rat);
	}
	if (tail)
		json_array_extend(rules, tail);
	return rules;
}

/* A breaker's settings, as given (the rest come from the graph, then the defaults). */
static json_t *read_breaker(struct reader *r, const char *at, json_t *obj)
{
	json_t *b = get_object(r, at, obj, "breaker", breaker_fields), *out;
	char *bat;

	if (!b)
		return json_object();
	bat = path_of(at, "breaker");
	out = json_object();
	if (present(b, "failures"))
		json_object_set_new(out, "failures",
				    json_integer(get_int(r, bat, b, "failures", 1, 1000000, 5)));
	if (present(b, "window_failures"))
		json_object_set_new(
			out, "window_failures",
			json_integer(get_int(r, bat, b, "window_failures", 1, 1000, 10)));
	if (present(b, "window"))
		json_object_set_new(out, "window",
				    json_integer(get_duration(r, bat, b, "window", 1, 3600)));
	if (present(b, "cooldown"))
		json_object_set_new(out, "cooldown",
				    json_integer(get_duration(r, bat, b, "cooldown", 1, 600)));
	free(bat);
	return out;
}

/* "HH:MM" of a day, 00:00 to 23:59. */
static int valid_time_of_day(const char *s)
{
	return strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	       s[2] == ':' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]) &&
	       (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] < '6';
}

/*
 * When a key must be done: {"time": "06:00", "timezone": "Europe/Paris"} (the day
 * after a daily key's date, or "days_after" days), or {"within": "2h"} after the end
 * of the key's period. null when absent or after a problem.
 */
static json_t *read_sla(struct reader *r, const char *at, json_t *obj, enum ds_key_kind kind)
{
	json_t *o = get_object(r, at, obj, "sla", sla_fields);
	const char *time, *tz;
	char *sat;
	json_t *out = NULL;

	if (!o)
		return json_null();
	sat = path_of(at, "sla");
	time = get_string(r, sat, o, "time", 0);
	tz = get_string(r, sat, o, "timezone", 0);
	if (kind == DS_KEY_NONE) {
		problem(r, at, "sla", "a task with key 'none' has no deadline per key");
	} else if (present(o, "time") == present(o, "within")) {
		problem(r, sat, "", "give either 'time' (a time of day) or 'within' (a duration)");
	} else if (time && !valid_time_of_day(time)) {
		problem(r, sat, "time", "invalid time of day '%s': expected HH:MM", time);
	} else if (time && kind != DS_KEY_DAILY) {
		problem(r, sat, "time", "a time of day is for daily keys; give 'within' instead");
	} else {
		int within = get_duration(r, sat, o, "within", 0, 0);
		int days = get_int(r, sat, o, "days_after", 0, 366, 1);

		out = time ? json_pack("{s:s, s:i, s:s}", "time", time, "days_after", days,
				       "timezone", tz ? tz : "UTC")
			   : json_pack("{s:i, s:s}", "within", within, "timezone", tz ? tz : "UTC");
	}
	free(sat);
	return out ? out : json_null();
}

/*
 * The first key of a schedule, canonical: a date, or for an hourly task (kind) also an
 * hour; a graph's (kind DS_KEY_NONE) is a date, which is the first hour of its day for
 * its hourly tasks. NULL after a problem.
 */
static json_t *read_start(struct reader *r, const char *at, json_t *o, enum ds_key_kind kind)
{
	const char *text = get_string(r, at, o, "start", 0);
	struct ds_range range;
	struct ds_error e;

	if (!text)
		return NULL;
	if (ds_range_parse(text, 0, &range, &e) < 0 || strcmp(range.first, text) ||
	    range.count != 1) {
		problem(r, at, "start",
			"invalid start '%s': expected a date such as \"2024-01-01\"%s", text,
			kind == DS_KEY_HOURLY ? " or an hour such as \"2024-01-01T06\"" : "");
		return NULL;
	}
	if (range.kind == DS_KEY_HOURLY && kind != DS_KEY_HOURLY) {
		problem(r, at, "start", "invalid start '%s': %s", text,
			kind == DS_KEY_DAILY ? "the keys of a daily task are dates"
					     : "a graph's schedule starts on a date");
		return NULL;
	}
	if (kind == DS_KEY_HOURLY && range.kind == DS_KEY_DAILY)
		return json_sprintf("%sT00", text);
	return json_string(text);
}

/* One of words at field, or NULL when absent or after a problem. */
static const char *get_word(struct reader *r, const char *at, json_t *o, const char *field,
			    const char *what, const char *const *words)
{
	const char *word = get_string(r, at, o, field, 0);

	if (word && !in_list(word, words)) {
		unknown_word(r, at, field, what, word, words);
		return NULL;
	}
	return word;
}

/* The catch-up policy: "all", "latest", or a window in seconds ("7d"). NULL if bad. */
static json_t *read_catchup(struct reader *r, const char *at, json_t *o)
{
	json_t *v = json_object_get(o, "catchup");
	const char *text = json_string_value(v);
	int window;

	if (!present(o, "catchup"))
		return NULL;
	if (text && in_list(text, catchup_words))
		return json_string(text);
	if (!json_is_integer(v) && (!text || ds_duration_parse(text) < 0)) {
		if (text)
			problem(r, at, "catchup",
				"unknown catch-up policy '%s': give \"all\", \"latest\" or a "
				"window such as \"7d\"",
				text);
		else
			problem(r, at, "catchup",
				"expected \"all\", \"latest\" or a window such as \"7d\", got %s",
				type_name(v));
		return NULL;
	}
	window = get_duration(r, at, o, "catchup", 1, 0);
	return window > 0 ? json_integer(window) : NULL;
}

/*
 * When keys are due and how the schedule enqueues them (datashell-pipelines(5)): the
 * fields given, normalized (durations in seconds, a start as a key of kind), for
 * definitions/15-due.sql to lay over its graph's and the defaults. NULL when absent;
 * false, as given, for a task that takes no schedule from its graph. kind is the task's,
 * DS_KEY_NONE for a graph's.
 */
static json_t *read_schedule(struct reader *r, const char *at, json_t *obj, enum ds_key_kind kind,
			     int is_task)
{
	json_t *v = json_object_get(obj, "schedule"), *o, *out, *start, *catchup;
	const char *tz, *due;
	char *sat;

	if (!present(obj, "schedule"))
		return NULL;
	if (is_task && json_is_false(v))
		return json_false();
	if (is_task && !json_is_object(v)) {
		problem(r, at, "schedule", "expected an object, or false for none, got %s",
			type_name(v));
		return NULL;
	}
	if (is_task && kind == DS_KEY_NONE) {
		problem(r, at, "schedule",
			"a task with key 'none' has no keys to schedule; give false to "
			"take no schedule from its graph");
		return NULL;
	}
	o = get_object(r, at, obj, "schedule", schedule_fields);
	if (!o)
		return NULL;
	sat = path_of(at, "schedule");
	out = json_object();
	/* A field that is wrong is left out: the load fails anyway. */
	start = read_start(r, sat, o, kind);
	if (start)
		json_object_set_new(out, "start", start);
	if (present(o, "delay"))
		json_object_set_new(out, "delay",
				    json_integer(get_duration(r, sat, o, "delay", 0, 0)));
	catchup = read_catchup(r, sat, o);
	if (catchup)
		json_object_set_new(out, "catchup", catchup);
	if (present(o, "lookback"))
		json_object_set_new(out, "lookback",
				    json_integer(get_int(r, sat, o, "lookback", 0, 1000, 0)));
	tz = get_string(r, sat, o, "timezone", 0);
	if (tz)
		json_object_set_new(out, "timezone", json_string(tz));
	due = get_word(r, sat, o, "due", "'due' value", due_words);
	if (due)
		json_object_set_new(out, "due", json_string(due));
	if (present(o, "priority"))
		json_object_set_new(
			out, "priority",
			json_integer(get_int(r, sat, o, "priority", -1000000, 1000000, 10)));
	free(sat);
	return out;
}

/*
 * Check the variables of an SQL body: only known ones, and :"target" only in a task
 * that has a target, since there would be nothing to put there when it runs.
 */
static void check_sql_vars(struct reader *r, const char *at, const char *field, const char *sql,
			   int has_target)
{
	const char *without_target[16];
	struct ds_error e;
	int n = 0;

	if (ds_sql_check_vars(sql, ds_sql_known_vars, &e) < 0) {
		problem(r, at, field, "%s", e.message);
		return;
	}
	if (has_target)
		return;
	for (int i = 0; ds_sql_known_vars[i] && n < 15; i++)
		if (strcmp(ds_sql_known_vars[i], "target"))
			without_target[n++] = ds_sql_known_vars[i];
	without_target[n] = NULL;
	if (ds_sql_check_vars(sql, without_target, &e) < 0)
		problem(r, at, field,
			"uses the variable 'target' at character %d, but the task "
			"has no 'target'",
			e.column);
}

/*
 * Refuse a statement that ends or starts a transaction: the worker runs a task's SQL,
 * its checks and complete_when in the transaction that records the run's success, so
 * that a key is done exactly once; a COMMIT in them would make the work stay even if
 * recording it then failed.
 */
static void check_transaction_control(struct reader *r, const char *at, const char *field,
				      const char *sql)
{
	size_t offset;
	char *what;
	int line, column;

	if (!ds_sql_transaction_control(sql, &offset, &what))
		return;
	ds_sql_position(sql, offset, &line, &column);
	problem(r, at, field,
		"%s at line %d, column %d: the worker runs the SQL in the transaction that "
		"records the run, so that each key is done exactly once; remove it",
		what, line, column);
	free(what);
}

/* An SQL body at field, checked; NULL when absent or after a problem. */
static const char *get_sql(struct reader *r, const char *at, json_t *obj, const char *field,
			   int required, int has_target)
{
	const char *sql = get_string(r, at, obj, field, required);

	if (sql) {
		check_sql_vars(r, at, field, sql, has_target);
		check_transaction_control(r, at, field, sql);
	}
	return sql;
}

/* The key kind; -1 after a problem, with *kind DS_KEY_NONE. */
static int get_key(struct reader *r, const char *at, json_t *obj, enum ds_key_kind *kind)
{
	const char *name = get_string(r, at, obj, "key", 1);

	*kind = DS_KEY_NONE;
	if (!name)
		return -1;
	if (ds_key_kind_parse(name, kind) < 0) {
		unknown_word(r, at, "key", "key kind", name, key_kinds);
		return -1;
	}
	return 0;
}

static const char *get_target(struct reader *r, const char *at, json_t *obj)
{
	const char *target = get_string(r, at, obj, "target", 0);

	if (target && !valid_table(target)) {
		problem(r, at, "target",
			"invalid table name '%s': expected \"table\" or "
			"\"schema.table\"",
			target);
		return NULL;
	}
	return target;
}

static int dep_exists(const struct ds_task_def *t, const char *name, int offset)
{
	for (int i = 0; i < t->ndeps; i++)
		if (t->deps[i].offset == offset && !strcmp(t->deps[i].task, name))
			return 1;
	return 0;
}

/* One element of depends_on: "name" or {"task": "name", "offset": -1}. */
static void read_dep(struct reader *r, const char *at, json_t *v, int index, struct ds_task_def *t)
{
	char *dat = ds_xprintf("%s.depends_on[%d]", at, index);
	const char *name = NULL;
	int offset = 0;

	if (json_is_string(v)) {
		name = json_string_value(v);
		if (!valid_name(name)) {
			problem(r, dat, "", "invalid task name '%s'", name);
			name = NULL;
		}
	} else if (json_is_object(v)) {
		check_known_fields(r, dat, v, dep_fields);
		name = get_name(r, dat, v, "task");
		offset = get_int(r, dat, v, "offset", INT_MIN, 0, 0);
	} else {
		problem(r, dat, "",
			"expected a task name or {\"task\": NAME, \"offset\": N}, "
			"got %s",
			type_name(v));
	}
	if (name && dep_exists(t, name, offset)) {
		problem(r, dat, "", "depends on '%s'%s twice", name,
			offset ? " at that offset" : "");
	} else if (name) {
		t->deps = ds_xrealloc(t->deps, (size_t)(t->ndeps + 1) * sizeof(*t->deps));
		t->deps[t->ndeps++] = (struct ds_task_dep){ ds_xstrdup(name), offset, index };
	}
	free(dat);
}

static void read_deps(struct reader *r, const char *at, json_t *obj, struct ds_task_def *t)
{
	json_t *deps = get_array(r, at, obj, "depends_on"), *v;
	size_t i;

	json_array_foreach(deps, i, v) read_dep(r, at, v, (int)i, t);
}

static int check_named(json_t *checks, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) if (!strcmp(json_string_value(json_object_get(c, "name")),
						     name)) return 1;
	return 0;
}

/* The pre-run checks, normalized to [{"name", "sql"}]. Caller frees. */
static json_t *read_checks(struct reader *r, const char *at, json_t *obj, int has_target)
{
	json_t *list = get_array(r, at, obj, "checks"), *checks = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		char *cat = ds_xprintf("%s.checks[%zu]", at, i);
		const char *name, *sql;

		if (!json_is_object(v)) {
			problem(r, cat, "", "expected {\"name\": NAME, \"sql\": QUERY}, got %s",
				type_name(v));
			free(cat);
			continue;
		}
		check_known_fields(r, cat, v, check_fields);
		name = get_name(r, cat, v, "name");
		sql = get_sql(r, cat, v, "sql", 1, has_target);
		if (name && check_named(checks, name))
			problem(r, cat, "name", "another check is also called '%s'", name);
		else if (name && sql)
			json_array_append_new(checks,
					      json_pack("{s:s, s:s}", "name", name, "sql", sql));
		free(cat);
	}
	return checks;
}

static int compare_deps(const void *a, const void *b)
{
	const struct ds_task_dep *x = a, *y = b;
	int c = strcmp(x->task, y->task);

	return c ? c : (x->offset > y->offset) - (x->offset < y->offset);
}

/* depends_on as the definition keeps it: [{"task", "offset"}], in a fixed order. */
static json_t *normalized_deps(const struct ds_task_def *t)
{
	struct ds_task_dep *sorted = ds_xmalloc((size_t)t->ndeps * sizeof(*sorted));
	json_t *deps = json_array();

	for (int i = 0; i < t->ndeps; i++)
		sorted[i] = t->deps[i];
	qsort(sorted, (size_t)t->ndeps, sizeof(*sorted), compare_deps);
	for (int i = 0; i < t->ndeps; i++)
		json_array_append_new(deps, json_pack("{s:s, s:i}", "task", sorted[i].task,
						      "offset", sorted[i].offset));
	free(sorted);
	return deps;
}

/* The fields of a task, read and checked; what the definition needs beyond t. */
struct task_fields {
	const char *sql, *command, *target, *complete_when, *connection;
	int retries, retry_delay, timeout;
	json_t *checks, *rules, *breaker, *sla, *schedule;
};

/*
 * The definition as stored and compared: every field present, defaults filled in,
 * durations in seconds, dependencies as objects in a fixed order. So two files that
 * say the same thing in different words load as "unchanged".
 */
static json_t *normalized_definition(const struct ds_task_def *t, struct task_fields *f)
{
	return json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:o, s:s?, s:i, s:i, s:o, s:o, s:s?, s:o,"
			 " s:o, s:o, s:o*, s:s*}",
			 "name", t->name, "graph", t->graph, "key", ds_key_kind_name(t->key), "sql",
			 f->sql, "command", f->command, "depends_on", normalized_deps(t), "target",
			 f->target, "retries", f->retries, "retry_delay", f->retry_delay, "timeout",
			 f->timeout > 0 ? json_integer(f->timeout) : json_null(), "checks",
			 f->checks, "complete_when", f->complete_when, "error_classes", f->rules,
			 "breaker", f->breaker, "sla", f->sla, "schedule", f->schedule,
			 "connection", f->connection);
}

static void read_task_fields(struct reader *r, const char *at, json_t *obj, struct ds_task_def *t,
			     struct task_fields *f)
{
	const char *graph = get_name(r, at, obj, "graph");
	int has_target = present(obj, "target");

	t->graph = graph ? ds_xstrdup(graph) : NULL;
	t->key_unknown = get_key(r, at, obj, &t->key) < 0;
	f->target = get_target(r, at, obj);
	f->sql = get_sql(r, at, obj, "sql", 0, has_target);
	f->command = get_string(r, at, obj, "command", 0);
	if (present(obj, "sql") && present(obj, "command"))
		problem(r, at, "", "has both 'sql' and 'command'; give one");
	else if (!present(obj, "sql") && !present(obj, "command"))
		problem(r, at, "",
			"needs 'sql' (run in the warehouse) or 'command' (run by /bin/sh)");
	f->retries = get_int(r, at, obj, "retries", 0, INT_MAX, 0);
	f->retry_delay = get_duration(r, at, obj, "retry_delay", 0, DEFAULT_RETRY_DELAY);
	f->timeout = get_duration(r, at, obj, "timeout", 1, 0);
	if (f->sql && f->timeout > MAX_SQL_TIMEOUT) {
		problem(r, at, "timeout",
			"%ds is more than the longest for an SQL task, %ds (about 24.8 days): "
			"the worker sets statement_timeout to it, in milliseconds, which the "
			"server keeps in an int",
			f->timeout, MAX_SQL_TIMEOUT);
		f->timeout = 0;
	}
	read_deps(r, at, obj, t);
	f->checks = read_checks(r, at, obj, has_target);
	f->complete_when = get_sql(r, at, obj, "complete_when", 0, has_target);
	f->rules = read_rules(r, at, obj, r->file_rules);
	f->breaker = read_breaker(r, at, obj);
	f->sla = read_sla(r, at, obj, t->key);
	f->schedule = read_schedule(r, at, obj, t->key, 1);
	f->connection = get_name_of(r, at, obj, "connection", 0);
	if (f->connection && f->command)
		problem(r, at, "connection",
			"a command task runs its own programs; 'connection' is for SQL tasks");
}

static void read_task(struct reader *r, json_t *obj, int index)
{
	const char *given = json_string_value(json_object_get(obj, "name")), *name;
	char *at = given && valid_name(given) ? ds_xprintf(DS_TASK_PATH, index, given)
					      : ds_xprintf("tasks[%d]", index);
	struct ds_task_def t = { 0 };
	struct task_fields f = { 0 };

	if (!json_is_object(obj)) {
		problem(r, at, "", "expected an object, got %s", type_name(obj));
		free(at);
		return;
	}
	check_known_fields(r, at, obj, task_fields);
	name = get_name(r, at, obj, "name");
	read_task_fields(r, at, obj, &t, &f);
	free(at);
	if (!name) {
		/* Nothing can refer to it, so it takes no part in the checks across files. */
		json_decref(f.checks);
		json_decref(f.rules);
		json_decref(f.breaker);
		json_decref(f.sla);
		json_decref(f.schedule);
		ds_task_def_release(&t);
		return;
	}
	t.name = ds_xstrdup(name);
	t.file = ds_xstrdup(r->file);
	t.index = index;
	t.definition = normalized_definition(&t, &f);
	r->p->tasks = ds_xrealloc(r->p->tasks, (size_t)(r->p->ntasks + 1) * sizeof(*r->p->tasks));
	r->p->tasks[r->p->ntasks++] = t;
}

static void read_graph(struct reader *r, const char *name, json_t *obj)
{
	char *at = ds_xprintf("graphs.%s", name);
	struct ds_graph_def g = { 0 };
	const char *conn;

	if (!valid_name(name)) {
		problem(r, "graphs", "",
			"invalid graph name '%s': use letters, digits, '_', '.' "
			"and '-', starting with a letter or '_'",
			name);
	} else if (!json_is_object(obj)) {
		problem(r, at, "", "expected an object, got %s", type_name(obj));
	} else {
		check_known_fields(r, at, obj, graph_fields);
		g.name = ds_xstrdup(name);
		g.max_active = get_int(r, at, obj, "max_active", 1, INT_MAX, DEFAULT_MAX_ACTIVE);
		g.paused = get_bool(r, at, obj, "paused");
		g.breaker = read_breaker(r, at, obj);
		g.schedule = read_schedule(r, at, obj, DS_KEY_NONE, 0);
		if (!g.schedule)
			g.schedule = json_object();
		conn = get_name_of(r, at, obj, "connection", 0);
		g.connection = conn ? ds_xstrdup(conn) : NULL;
		g.file = ds_xstrdup(r->file);
		r->p->graphs = ds_xrealloc(r->p->graphs,
					   (size_t)(r->p->ngraphs + 1) * sizeof(*r->p->graphs));
		r->p->graphs[r->p->ngraphs++] = g;
	}
	free(at);
}

/*
 * A connection string as libpq reads it, without a password: passwords stay on the
 * worker's machine (.pgpass, the service file), never in a file that is loaded, nor in
 * the state store that keeps what it says.
 */
static void check_conninfo(struct reader *r, const char *at, const char *conninfo)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &why), *o;

	if (!opts) {
		problem(r, at, "", "invalid connection string: %.*s",
			why ? (int)strcspn(why, "\n") : 14, why ? why : "out of memory");
		PQfreemem(why);
		return;
	}
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0])
			problem(r, at, "",
				"has a password: put it in ~/.pgpass or the service file on the "
				"machines the workers run on, not in a pipeline file");
	PQconninfoFree(opts);
}

/* "connections": {"warehouse": "host=... dbname=..."}, each checked and kept. */
static void read_connections(struct reader *r, json_t *doc)
{
	json_t *conns = json_object_get(doc, "connections"), *v;
	const char *name;

	if (!present(doc, "connections"))
		return;
	if (!json_is_object(conns)) {
		problem(r, "connections", "",
			"expected an object of connection strings by name, got %s",
			type_name(conns));
		return;
	}
	json_object_foreach(conns, name, v)
	{
		char *at = ds_xprintf("connections.%s", name);
		struct ds_pipeline *p = r->p;

		if (!valid_name(name))
			problem(r, "connections", "",
				"invalid connection name '%s': use letters, digits, '_', '.' and "
				"'-', starting with a letter or '_'",
				name);
		else if (!json_is_string(v) || !json_string_length(v))
			problem(r, at, "",
				"expected a connection string such as \"service=warehouse\" or "
				"\"host=... dbname=...\", got %s",
				json_is_string(v) ? "an empty string" : type_name(v));
		else {
			/* Kept even if wrong, so that the tasks naming it are not told it is
			 * unknown. */
			check_conninfo(r, at, json_string_value(v));
			p->conns =
				ds_xrealloc(p->conns, (size_t)(p->nconns + 1) * sizeof(*p->conns));
			p->conns[p->nconns++] =
				(struct ds_conn_def){ ds_xstrdup(name),
						      ds_xstrdup(json_string_value(v)),
						      ds_xstrdup(r->file) };
		}
		free(at);
	}
}

static void read_document(struct reader *r, json_t *doc)
{
	json_t *graphs, *tasks, *v;
	const char *name;
	size_t i;

	if (!json_is_object(doc)) {
		problem(r, "", "", "expected an object with \"graphs\" and \"tasks\", got %s",
			type_name(doc));
		return;
	}
	check_known_fields(r, "", doc, top_fields);
	read_connections(r, doc);
	graphs = json_object_get(doc, "graphs");
	if (present(doc, "graphs") && !json_is_object(graphs))
		problem(r, "graphs", "", "expected an object of graphs by name, got %s",
			type_name(graphs));
	else
		json_object_foreach(graphs, name, v) read_graph(r, name, v);
	/* Read first: every task of the file takes them after its own. */
	r->file_rules = read_rules(r, "", doc, NULL);
	tasks = get_array(r, "", doc, "tasks");
	json_array_foreach(tasks, i, v) read_task(r, v, (int)i);
	json_decref(r->file_rules);
	r->file_rules = NULL;
}

static int read_parsed(struct ds_pipeline *p, const char *name, json_t *doc,
		       const json_error_t *jerr)
{
	struct reader r = { p, name, 0, NULL };

	if (!doc) {
		char *where = ds_xprintf("%s:%d:%d", name, jerr->line, jerr->column);

		ds_pipeline_problem(p, where, "", "invalid JSON: %s", jerr->text);
		free(where);
		p->unreadable++;
		return 1;
	}
	read_document(&r, doc);
	json_decref(doc);
	return r.problems;
}

int ds_pipeline_read_text(struct ds_pipeline *p, const char *name, const char *text)
{
	json_error_t jerr;

	return read_parsed(p, name, json_loads(text, JSON_REJECT_DUPLICATES, &jerr), &jerr);
}

int ds_pipeline_read_file(struct ds_pipeline *p, const char *path)
{
	FILE *f = fopen(path, "r");
	json_error_t jerr;
	json_t *doc;

	if (!f) {
		ds_pipeline_problem(p, path, "", "cannot open the file: %s", strerror(errno));
		p->unreadable++;
		return 1;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	return read_parsed(p, path, doc, &jerr);
}
