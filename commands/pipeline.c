/*
 * pipeline: load pipeline definitions from JSON files, list and show the tasks, pause
 * and resume graphs. The file format is datashell-pipelines(5); the work is done in
 * core/pipeline*.c, and this file turns its results into what a person reads.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pipeline.h"
#include "../core/util.h"
#include "command.h"

struct pipeline_opts {
	const char *graph;
	const char *keep_current;
	int check_connections;
};

static const struct ds_opt load_options[] = {
	DS_OPT_STRING("keep-current", struct pipeline_opts, keep_current, "TASK[,TASK...]",
		      "count these tasks' keys built by their version before the load as built "
		      "by the new one"),
	DS_OPT_BOOL("check-connections", struct pipeline_opts, check_connections,
		    "connect to each connection the files declare or run on first; load "
		    "nothing if one cannot be reached"),
	DS_OPT_END,
};

static const struct ds_opt list_options[] = {
	DS_OPT_STRING("graph", struct pipeline_opts, graph, "GRAPH",
		      "only the tasks of this graph"),
	DS_OPT_END,
};

static const char *text_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The changes a load reports, as --json names them and as a sentence says them. */
static const struct {
	const char *change, *would;
} changes[] = {
	{ "added", "would add" },
	{ "revived", "would revive" },
	{ "changed", "would change" },
	{ "removed", "would remove" },
};

#define NCHANGES (sizeof(changes) / sizeof(changes[0]))

/*
 * What a load did, per change: "added task 'orders' (graph 'core')"; with diffs, a
 * changed one's unified diff under it.
 */
static void describe_change(struct ds_buf *b, json_t *c, int dry_run, int diffs)
{
	const char *change = text_of(c, "change"), *object = text_of(c, "object");

	for (size_t i = 0; i < NCHANGES; i++) {
		if (strcmp(change, changes[i].change))
			continue;
		ds_buf_addf(b, "%s %s '%s'", dry_run ? changes[i].would : changes[i].change, object,
			    text_of(c, "name"));
		if (!strcmp(object, "task"))
			ds_buf_addf(b, " (graph '%s')", text_of(c, "graph"));
		ds_buf_addf(b, "\n");
		if (diffs && text_of(c, "diff"))
			ds_buf_addf(b, "%s", text_of(c, "diff"));
	}
}

/* "2 graphs added, 1 task changed": the non-zero counts of one kind of object. */
static void add_counts(struct ds_buf *b, json_t *counts, const char *object, int *parts)
{
	for (size_t i = 0; i < NCHANGES; i++) {
		json_int_t n = json_integer_value(json_object_get(counts, changes[i].change));

		if (n)
			ds_buf_addf(b, "%s%" JSON_INTEGER_FORMAT " %s%s %s", (*parts)++ ? ", " : "",
				    n, object, n == 1 ? "" : "s", changes[i].change);
	}
}

static void add_runs(struct ds_buf *b, json_t *report, int dry_run)
{
	json_int_t cancelled = json_integer_value(json_object_get(report, "runs_cancelled"));
	json_int_t stopping = json_integer_value(json_object_get(report, "runs_stopping"));

	if (cancelled)
		ds_buf_addf(b, "%s %" JSON_INTEGER_FORMAT " waiting run%s of removed tasks\n",
			    dry_run ? "would cancel" : "cancelled", cancelled,
			    cancelled == 1 ? "" : "s");
	if (stopping)
		ds_buf_addf(b,
			    "%s %" JSON_INTEGER_FORMAT " running run%s of removed tasks "
			    "to stop\n",
			    dry_run ? "would ask" : "asked", stopping, stopping == 1 ? "" : "s");
}

/* The change the load made to task name: "changed" or "revived". */
static const char *change_of(json_t *report, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(report, "changes"), i,
			   c) if (!strcmp(text_of(c, "object"), "task") &&
				  !strcmp(text_of(c, "name"), name)) return text_of(c, "change");
	return "changed";
}

/*
 * Per task the load changed: "changed task 'x': 12 complete keys become stale (x 10,
 * y 2)", or that its version is the same; then the keys --keep-current kept current.
 */
static void add_stale(struct ds_buf *b, json_t *report, int dry_run)
{
	json_t *stale = json_object_get(report, "stale"), *row, *n;
	const char *task;
	size_t i;

	json_array_foreach(json_object_get(stale, "tasks"), i, row)
	{
		json_int_t keys = json_integer_value(json_object_get(row, "stale"));
		int k = 0;

		ds_buf_addf(b, "%s task '%s': ", change_of(report, text_of(row, "task")),
			    text_of(row, "task"));
		if (!json_is_true(json_object_get(row, "version_changed"))) {
			ds_buf_addf(b, "same version, no key %s stale\n",
				    dry_run ? "would become" : "becomes");
			continue;
		}
		if (!keys) {
			ds_buf_addf(b, "new version, no complete key %s stale\n",
				    dry_run ? "would become" : "becomes");
			continue;
		}
		ds_buf_addf(b, "%" JSON_INTEGER_FORMAT " complete key%s %s stale", keys,
			    keys == 1 ? "" : "s",
			    dry_run	? "would become"
			    : keys == 1 ? "becomes"
					: "become");
		json_object_foreach(json_object_get(row, "tasks"), task, n)
			ds_buf_addf(b, "%s%s %" JSON_INTEGER_FORMAT, k++ ? ", " : " (", task,
				    json_integer_value(n));
		ds_buf_addf(b, ")\n");
	}
	json_object_foreach(json_object_get(stale, "kept_current"), task, n)
		ds_buf_addf(b, "%s %" JSON_INTEGER_FORMAT " key%s of task '%s' current\n",
			    dry_run ? "would keep" : "kept", json_integer_value(n),
			    json_integer_value(n) == 1 ? "" : "s", task);
}

/* "the next schedule pass will enqueue 31 runs: daily_a 30, daily_b 1". Caller frees. */
static char *schedule_text(json_t *scheduled, int dry_run)
{
	json_int_t n = json_integer_value(json_object_get(scheduled, "runs"));
	struct ds_buf b = DS_BUF_INIT;
	const char *task;
	json_t *runs;
	int i = 0;

	ds_buf_addf(&b, "the next schedule pass %s enqueue %" JSON_INTEGER_FORMAT " run%s",
		    dry_run ? "would" : "will", n, n == 1 ? "" : "s");
	json_object_foreach(json_object_get(scheduled, "tasks"), task, runs)
		ds_buf_addf(&b, "%s%s %" JSON_INTEGER_FORMAT, i++ ? ", " : ": ", task,
			    json_integer_value(runs));
	return ds_buf_take(&b);
}

/* The changes, each changed one with its diff if diffs, the runs stopped, the schedule. */
static void plan_text(struct ds_buf *b, json_t *report, int diffs)
{
	int dry_run = json_is_true(json_object_get(report, "dry_run"));
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(report, "changes"), i, c)
		describe_change(b, c, dry_run, diffs);
	add_stale(b, report, dry_run);
	add_runs(b, report, dry_run);
	if (json_object_get(report, "schedule")) {
		char *line = schedule_text(json_object_get(report, "schedule"), dry_run);

		ds_buf_addf(b, "%s\n", line);
		free(line);
	}
}

/*
 * The changes one per line, then a summary: "loaded 1 file: 5 tasks added". A dry run
 * shows what changes in each changed task and graph as a diff; a load does not, so that
 * a script's output stays a line per change (its --json has the diffs).
 */
static char *load_text(json_t *report)
{
	int dry_run = json_is_true(json_object_get(report, "dry_run")), parts = 0;
	size_t nfiles = json_array_size(json_object_get(report, "files"));
	json_int_t unchanged =
		json_integer_value(json_object_get(json_object_get(report, "tasks"), "unchanged"));
	struct ds_buf b = DS_BUF_INIT;

	plan_text(&b, report, dry_run);
	ds_buf_addf(&b, "%s %zu file%s: ", dry_run ? "would load" : "loaded", nfiles,
		    nfiles == 1 ? "" : "s");
	add_counts(&b, json_object_get(report, "connections"), "connection", &parts);
	add_counts(&b, json_object_get(report, "graphs"), "graph", &parts);
	add_counts(&b, json_object_get(report, "tasks"), "task", &parts);
	if (!parts)
		ds_buf_addf(&b, "no changes");
	if (unchanged)
		ds_buf_addf(&b, "%s%" JSON_INTEGER_FORMAT " task%s unchanged%s",
			    parts ? ", " : " (", unchanged, unchanged == 1 ? "" : "s",
			    parts ? "" : ")");
	if (dry_run)
		ds_buf_addf(&b, "; nothing was changed");
	return ds_buf_take(&b);
}

/* Whether a load's report changes a stored task or graph: has a diff to show. */
static int changes_stored(json_t *report)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(report, "changes"), i, c)
	{
		if (text_of(c, "diff"))
			return 1;
	}
	return 0;
}

/*
 * A load that changes a stored task or graph, or lets the next pass of the schedule
 * enqueue many runs (a new schedule, a start moved a long way back), needs a yes from
 * the person at a terminal, unless --yes; a script goes ahead (DS_CMD_ASKS). Working it
 * out is the load itself, rolled back, so it is done only when somebody can be asked.
 * What changes is shown first, each changed task and graph with its diff. 1: go ahead;
 * 0: declined; -1: failed.
 */
static int confirmed(struct ds_session *s, const struct ds_invocation *inv, char *const *files,
		     int nfiles, struct ds_result *out)
{
	json_t *plan, *scheduled;
	json_int_t nruns;
	char *what;
	int rc = 1;

	if (inv->dry_run || inv->yes || !s->interactive || !s->confirm)
		return 1;
	plan = ds_pipeline_load(&s->db, files, nfiles, NULL, 1, &s->err);
	if (!plan)
		return -1;
	scheduled = json_object_get(plan, "schedule");
	nruns = json_integer_value(json_object_get(scheduled, "runs"));
	if (changes_stored(plan)) {
		struct ds_buf b = DS_BUF_INIT;
		char *text;
		json_t *shown;

		plan_text(&b, plan, 1);
		text = ds_buf_take(&b);
		shown = json_string(text);
		free(text);
		if (nruns > DS_CONFIRM_ABOVE)
			what = ds_xprintf("load the files and let the next schedule pass enqueue "
					  "%" JSON_INTEGER_FORMAT " runs",
					  nruns);
		else
			what = ds_xstrdup("load the files");
		rc = ds_confirm(s, inv, shown, what, out);
		json_decref(shown);
		free(what);
	} else if (nruns > DS_CONFIRM_ABOVE) {
		json_t *rows = json_array(), *runs;
		const char *task;

		/* Shown as a table of tasks: their names are not labels. */
		json_object_foreach(json_object_get(scheduled, "tasks"), task, runs)
			json_array_append_new(rows,
					      json_pack("{s:s, s:O}", "task", task, "runs", runs));
		what = ds_xprintf("load the files and let the next schedule pass enqueue "
				  "%" JSON_INTEGER_FORMAT " runs",
				  json_integer_value(json_object_get(scheduled, "runs")));
		rc = ds_confirm(s, inv, rows, what, out);
		json_decref(rows);
		free(what);
	}
	json_decref(plan);
	return rc;
}

static int load_files(struct ds_session *s, const struct ds_invocation *inv, char *const *files,
		      int nfiles, struct ds_result *out)
{
	const struct pipeline_opts *o = inv->opts;

	out->data = ds_pipeline_load_keeping(&s->db, files, nfiles, o->keep_current, &s->audit,
					     inv->dry_run, &s->err);
	if (!out->data)
		return -1;
	out->text = load_text(out->data);
	return 0;
}

/*
 * --check-connections: the connections the files declare or name, each tried from here. All
 * reachable: the list, for the report. Else NULL, err naming each that is not and why.
 */
static json_t *checked_connections(struct ds_session *s, char *const *files, int nfiles)
{
	json_t *checked = ds_pipeline_check_connections(&s->db, files, nfiles, &s->err), *c;
	struct ds_buf b = DS_BUF_INIT;
	int unreachable = 0;
	char *text;
	size_t i;

	if (!checked)
		return NULL;
	json_array_foreach(checked, i, c) if (!json_is_true(json_object_get(c, "reachable")))
		ds_buf_addf(&b, "%s%s: connections.%s: %s", unreachable++ ? "\n" : "",
			    text_of(c, "file"), text_of(c, "connection"), text_of(c, "error"));
	text = ds_buf_take(&b);
	if (unreachable) {
		ds_error_set(&s->err, DS_ERR_FAILED, "%s", text);
		ds_error_hint(&s->err,
			      "nothing was loaded; without --check-connections the load "
			      "does not connect (workers may reach what this machine cannot)");
		json_decref(checked);
		checked = NULL;
	}
	free(text);
	return checked;
}

/*
 * "connection 'warehouse' is reachable", a line each, before what the load did; one that
 * a file loaded before declares says which.
 */
static char *with_checked(json_t *checked, char *load)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *c;

	json_array_foreach(checked, i, c)
	{
		ds_buf_addf(&b, "connection '%s' ", text_of(c, "connection"));
		if (json_is_true(json_object_get(c, "stored")))
			ds_buf_addf(&b, "(declared in %s) ", text_of(c, "file"));
		ds_buf_addf(&b, "is reachable\n");
	}
	ds_buf_addf(&b, "%s", load);
	free(load);
	return ds_buf_take(&b);
}

/* The words name files, directories and patterns: the load reads the files they stand for. */
static int run_load(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct pipeline_opts *o = inv->opts;
	int nfiles, rc;
	char **files = ds_pipeline_files(inv->args, inv->nargs, &nfiles, &s->err);
	json_t *checked = NULL;

	if (!files)
		return -1;
	if (o->check_connections && !(checked = checked_connections(s, files, nfiles))) {
		ds_names_free(files);
		return -1;
	}
	rc = confirmed(s, inv, files, nfiles, out);
	if (rc > 0)
		rc = load_files(s, inv, files, nfiles, out);
	if (rc == 0 && checked && out->text) {
		json_object_set(out->data, "connections_checked", checked);
		out->text = with_checked(checked, out->text);
	}
	json_decref(checked);
	ds_names_free(files);
	return rc;
}

static int run_list(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	const struct pipeline_opts *o = inv->opts;
	const char *graph = o->graph;

	out->data = ds_pipeline_list(&s->db, graph, &s->err);
	if (!out->data)
		return -1;
	/* A table of no rows says nothing; say it in words. */
	if (!json_array_size(out->data))
		out->text = graph ? ds_xprintf("graph '%s' has no tasks", graph)
				  : ds_xstrdup("no tasks; 'pipeline load FILE' loads some");
	return 0;
}

/* Seconds as the files may write them: "1h", "5m", "30s". Caller frees. */
static char *duration_text(json_int_t s)
{
	if (s && s % 3600 == 0)
		return ds_xprintf("%" JSON_INTEGER_FORMAT "h", s / 3600);
	if (s && s % 60 == 0)
		return ds_xprintf("%" JSON_INTEGER_FORMAT "m", s / 60);
	return ds_xprintf("%" JSON_INTEGER_FORMAT "s", s);
}

static void field(struct ds_buf *b, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line of show's text: the label, then the value aligned after it. */
static void field(struct ds_buf *b, const char *label, const char *fmt, ...)
{
	va_list ap;
	char *value;

	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) < 0)
		value = NULL;
	va_end(ap);
	ds_buf_addf(b, "%-13s %s\n", label, value ? value : "");
	free(value);
}

/* A title, then text indented under it (SQL bodies keep their own lines). */
static void block(struct ds_buf *b, const char *title, const char *text)
{
	ds_buf_addf(b, "%s\n", title);
	while (*text) {
		size_t n = strcspn(text, "\n");

		ds_buf_addf(b, "    %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* "orders[-1] (graph core)": linked tasks, with their graph when it is another one. */
static char *links_text(json_t *links, const char *graph)
{
	struct ds_buf b = DS_BUF_INIT;
	size_t i;
	json_t *l;

	json_array_foreach(links, i, l)
	{
		const char *g = text_of(l, "graph");
		json_int_t offset = json_integer_value(json_object_get(l, "offset"));

		ds_buf_addf(&b, "%s%s", i ? ", " : "", text_of(l, "task"));
		if (offset)
			ds_buf_addf(&b, "[%" JSON_INTEGER_FORMAT "]", offset);
		if (strcmp(g, graph))
			ds_buf_addf(&b, " (graph %s)", g);
	}
	if (!i)
		ds_buf_addf(&b, "none");
	return ds_buf_take(&b);
}

/* "3 success, 1 queued": the states that have runs. Caller frees. */
static char *runs_text(json_t *runs)
{
	struct ds_buf b = DS_BUF_INIT;
	const char *state;
	json_t *n;
	int any = 0;

	json_object_foreach(runs, state, n) if (json_integer_value(n))
		ds_buf_addf(&b, "%s%" JSON_INTEGER_FORMAT " %s", any++ ? ", " : "",
			    json_integer_value(n), state);
	if (!any)
		ds_buf_addf(&b, "none");
	return ds_buf_take(&b);
}

/* "due 2h after the end (Europe/Paris)": when a schedule's keys are due. Caller frees. */
static char *due_text(json_t *s)
{
	json_int_t delay = json_integer_value(json_object_get(s, "delay"));
	const char *due = text_of(s, "due");
	char *d = duration_text(delay), *text;

	text = delay ? ds_xprintf("due %s after the %s (%s)", d, due, text_of(s, "timezone"))
		     : ds_xprintf("due at the %s (%s)", due, text_of(s, "timezone"));
	free(d);
	return text;
}

/*
 * "from 2024-01-01, due 2h after the end (Europe/Paris), catch-up all, lookback 1,
 * priority 10": a schedule in force, as task_schedule() gives it; "none: run by hand;
 * keys due ..." for a task without a start, whose keys are still due by its delay and
 * time zone. Caller frees.
 */
static char *schedule_policy(json_t *s, int scheduled)
{
	json_t *catchup = json_object_get(s, "catchup");
	struct ds_buf b = DS_BUF_INIT;
	char *d;

	if (!json_is_object(s))
		return ds_xstrdup("none: run by hand");
	d = due_text(s);
	if (!scheduled) {
		ds_buf_addf(&b, "none: run by hand; keys %s", d);
		free(d);
		return ds_buf_take(&b);
	}
	ds_buf_addf(&b, "from %s, %s, catch-up ", text_of(s, "start"), d);
	free(d);
	if (json_is_integer(catchup)) {
		d = duration_text(json_integer_value(catchup));
		ds_buf_addf(&b, "%s", d);
		free(d);
	} else {
		ds_buf_addf(&b, "%s", json_string_value(catchup));
	}
	ds_buf_addf(&b, ", lookback %" JSON_INTEGER_FORMAT ", priority %" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(s, "lookback")),
		    json_integer_value(json_object_get(s, "priority")));
	return ds_buf_take(&b);
}

/*
 * "by 06:00 the day after (Europe/Paris)", "within 2h of the end of its day (UTC)": by
 * when a key must be done, as the SLA the task was loaded with says. Caller frees.
 */
static char *sla_text(json_t *sla, const char *key)
{
	json_int_t days = json_integer_value(json_object_get(sla, "days_after"));
	const char *tz = text_of(sla, "timezone");
	char *d, *text;

	if (!json_is_object(sla))
		return ds_xstrdup("none");
	if (json_object_get(sla, "within")) {
		d = duration_text(json_integer_value(json_object_get(sla, "within")));
		text = ds_xprintf("within %s of the end of its %s (%s)", d,
				  strcmp(key, "hourly") ? "day" : "hour", tz);
		free(d);
		return text;
	}
	if (days == 0)
		return ds_xprintf("by %s on the key's day (%s)", text_of(sla, "time"), tz);
	if (days == 1)
		return ds_xprintf("by %s the day after (%s)", text_of(sla, "time"), tz);
	return ds_xprintf("by %s, %" JSON_INTEGER_FORMAT " days after (%s)", text_of(sla, "time"),
			  days, tz);
}

/*
 * "opens after 5 failed runs in a row, 10 within 1h, or a fatal failure; a probe after
 * 10m": the breaker settings in force. Caller frees.
 */
static char *breaker_text(json_t *b)
{
	char *window = duration_text(json_integer_value(json_object_get(b, "window")));
	char *cooldown = duration_text(json_integer_value(json_object_get(b, "cooldown")));
	json_int_t failures = json_integer_value(json_object_get(b, "failures"));
	char *text = ds_xprintf("opens after %" JSON_INTEGER_FORMAT " failed run%s in a row, "
				"%" JSON_INTEGER_FORMAT " within %s, or a fatal failure; "
				"a probe after %s",
				failures, failures == 1 ? "" : "s",
				json_integer_value(json_object_get(b, "window_failures")), window,
				cooldown);

	free(window);
	free(cooldown);
	return text;
}

/* One task for a person: its fields, then its SQL or command and its checks. */
static char *show_text(json_t *t)
{
	json_t *def = json_object_get(t, "definition"), *check;
	const char *graph = text_of(t, "graph"), *body;
	struct ds_buf b = DS_BUF_INIT;
	json_int_t retries;
	int scheduled;
	char *s;
	size_t i;

	field(&b, "Task", "%s", text_of(t, "task"));
	field(&b, "Graph", "%s%s", graph,
	      json_is_true(json_object_get(t, "graph_paused")) ? " (paused)" : "");
	field(&b, "Key", "%s", text_of(t, "key"));
	field(&b, "Kind", "%s", text_of(t, "kind"));
	field(&b, "Target", "%s", text_of(t, "target") ? text_of(t, "target") : "none");
	/* Left out for the state database, where SQL runs unless a task says otherwise. */
	if (text_of(t, "connection"))
		field(&b, "Connection", "%s (%s)", text_of(t, "connection"),
		      text_of(t, "conninfo") ? text_of(t, "conninfo") : "not declared");
	retries = json_integer_value(json_object_get(t, "retries"));
	s = duration_text(json_integer_value(json_object_get(t, "retry_delay")));
	if (retries)
		field(&b, "Retries", "%" JSON_INTEGER_FORMAT " (retry delay %s)", retries, s);
	else
		field(&b, "Retries", "none");
	free(s);
	s = json_is_integer(json_object_get(t, "timeout"))
		    ? duration_text(json_integer_value(json_object_get(t, "timeout")))
		    : ds_xstrdup("none");
	field(&b, "Timeout", "%s", s);
	free(s);
	field(&b, "Source", "%s", text_of(t, "source") ? text_of(t, "source") : "");
	field(&b, "Loaded at", "%s", text_of(t, "loaded_at"));
	field(&b, "Version", "%s", text_of(t, "version") ? text_of(t, "version") : "none");
	if (text_of(t, "removed_at"))
		field(&b, "Removed at", "%s", text_of(t, "removed_at"));
	s = links_text(json_object_get(t, "upstream"), graph);
	field(&b, "Upstream", "%s", s);
	free(s);
	s = links_text(json_object_get(t, "downstream"), graph);
	field(&b, "Downstream", "%s", s);
	free(s);
	s = runs_text(json_object_get(t, "runs"));
	field(&b, "Runs", "%s", s);
	free(s);
	scheduled = json_is_true(json_object_get(t, "scheduled"));
	s = schedule_policy(json_object_get(t, "schedule"), scheduled);
	field(&b, "Schedule", "%s%s", s,
	      scheduled && json_is_true(json_object_get(t, "graph_paused"))
		      ? " (paused with its graph)"
		      : "");
	free(s);
	s = sla_text(json_object_get(t, "sla"), text_of(t, "key"));
	field(&b, "SLA", "%s", s);
	free(s);
	s = breaker_text(json_object_get(t, "breaker"));
	field(&b, "Breaker", "%s", s);
	free(s);
	body = text_of(def, "sql");
	block(&b, body ? "SQL" : "Command", body ? body : text_of(def, "command"));
	json_array_foreach(json_object_get(def, "checks"), i, check)
	{
		s = ds_xprintf("Check %s", text_of(check, "name"));
		block(&b, s, text_of(check, "sql"));
		free(s);
	}
	if (text_of(def, "complete_when"))
		block(&b, "Complete when", text_of(def, "complete_when"));
	return ds_buf_take(&b);
}

static int run_show(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	out->data = ds_pipeline_show(&s->db, inv->args[0], &s->err);
	if (!out->data)
		return -1;
	out->text = show_text(out->data);
	return 0;
}

static int set_paused(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out,
		      int paused)
{
	const char *graph = inv->args[0];
	int dry_run = inv->dry_run;
	json_t *r = ds_graph_set_paused(&s->db, graph, paused, dry_run ? NULL : &s->audit, dry_run,
					&s->err);

	if (!r)
		return -1;
	out->data = r;
	json_object_set_new(r, "dry_run", json_boolean(dry_run));
	if (json_is_true(json_object_get(r, "changed")) && dry_run)
		out->text = ds_xprintf("would %s graph '%s'; nothing was changed",
				       paused ? "pause" : "resume", graph);
	else if (json_is_true(json_object_get(r, "changed")))
		out->text = ds_xprintf("%s graph '%s'", paused ? "paused" : "resumed", graph);
	else if (paused)
		out->text = ds_xprintf("graph '%s' was already paused (since %s by %s)", graph,
				       text_of(r, "paused_at"), text_of(r, "paused_by"));
	else
		out->text = ds_xprintf("graph '%s' was not paused", graph);
	return 0;
}

static int run_pause(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	return set_paused(s, inv, out, 1);
}

static int run_resume(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	return set_paused(s, inv, out, 0);
}

static const struct ds_action pipeline_actions[] = {
	{
		.name = "load",
		.synopsis =
			"[--dry-run] [--yes] [--keep-current TASK[,TASK...]] [--check-connections] "
			"FILE|DIR|PATTERN...",
		.summary = "check pipeline files as a whole, then apply them in one transaction",
		.opts = load_options,
		.complete = "FILE...",
		.min_args = 1,
		.max_args = -1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN | DS_CMD_ASKS,
		.role = DS_ROLE_ADMIN,
		.run = run_load,
	},
	{
		.name = "list",
		.synopsis = "[--graph GRAPH]",
		.summary = "the tasks by graph, with their keys, kinds, upstream tasks and targets",
		.opts = list_options,
		.run = run_list,
	},
	{
		.name = "show",
		.synopsis = "TASK",
		.summary = "one task in full: upstream and downstream, schedule, SLA, breaker",
		.complete = "TASK",
		.min_args = 1,
		.max_args = 1,
		.run = run_show,
	},
	{
		.name = "pause",
		.synopsis = "[--dry-run] GRAPH",
		.summary = "stop a graph's runs from being claimed, and pause its schedule",
		.complete = "GRAPH",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_ADMIN,
		.run = run_pause,
	},
	{
		.name = "resume",
		.synopsis = "[--dry-run] GRAPH",
		.summary = "let a paused graph's runs be claimed again, and resume its schedule",
		.complete = "GRAPH",
		.min_args = 1,
		.max_args = 1,
		.flags = DS_CMD_WRITES | DS_CMD_DRY_RUN,
		.role = DS_ROLE_ADMIN,
		.run = run_resume,
	},
	{ .name = NULL },
};

const struct ds_command ds_cmd_pipeline = {
	.name = "pipeline",
	.group = "pipelines",
	.summary = "load pipeline definitions, list and show tasks, pause and resume graphs",
	.description =
		"load checks the JSON files (see datashell-pipelines(5)) as a whole and reports\n"
		"every problem at once; only then does it apply them, in one transaction. It\n"
		"reads a directory's *.json files (not its subdirectories') and a pattern's files\n"
		"('pipelines/*.json': datashell globs it itself), each in name order; a pattern\n"
		"that matches no file is an error, and a file that exists is read as named, even\n"
		"with *, ? or [ in its name. The graphs the files declare are theirs: tasks of\n"
		"those graphs that the files no longer define are removed. list shows the tasks,\n"
		"show one task in full, with its upstream and downstream tasks, its schedule, SLA\n"
		"and breaker settings. pause and resume stop and restart a graph's runs; pausing\n"
		"a graph also pauses the schedule of its tasks: no worker's pass enqueues their\n"
		"due keys until it is resumed, when the catch-up policy decides what is caught up\n"
		"(see 'schedule'). A load that adds a schedule or moves a start earlier says how\n"
		"many runs the next pass will enqueue. Every task has a version, a fingerprint of\n"
		"what changes its output and of its upstream tasks' versions; a load says how\n"
		"many complete keys each change makes stale (status marks them ~, backfill\n"
		"--stale re-runs them), and --keep-current accepts the new version of the tasks\n"
		"named for their keys built by the one before. --dry-run shows each changed task\n"
		"and graph as a unified diff of the stored definition against the file's. On a\n"
		"terminal, a load that changes a stored task or graph, or lets the next pass\n"
		"enqueue more than 1000 runs, shows the same and asks first. The files may\n"
		"declare named connections, where their SQL tasks run instead of the state\n"
		"database; a load does not connect to them unless --check-connections asks it\n"
		"to, and then loads nothing if one cannot be reached from this machine.",
	.example = "pipeline load --dry-run examples/pipeline.json",
	.opts_size = sizeof(struct pipeline_opts),
	.actions = pipeline_actions,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
};
