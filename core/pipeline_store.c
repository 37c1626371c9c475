/*
 * pipeline_store.c: pipeline definitions in the state store: loading files in one
 * transaction, listing and showing tasks, pausing and resuming graphs.
 *
 * Values reach SQL as parameters; many rows at once travel as one JSON parameter and
 * are unpacked by the server (jsonb_to_recordset), so a load is a handful of statements
 * however many tasks it holds. The statements are in core/sql/pipeline/.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "pipeline.h"
#include "sql.h"

/*
 * The JSON document a statement returns as its one value; JSON null when it returns no
 * row or SQL NULL; NULL with err filled when it fails.
 */
static json_t *query_json(struct ds_db *db, enum ds_sql_id id, int nparams,
			  const char *const *params, struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, id, nparams, params, err);
	json_error_t jerr;
	json_t *doc;

	if (!res)
		return NULL;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return json_null();
	}
	doc = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
	PQclear(res);
	if (!doc)
		ds_error_set(err, DS_ERR_FAILED, "the server returned invalid JSON: %s", jerr.text);
	return doc;
}

/* A statement whose $1 is JSON (many rows at once) and $2, if not NULL, param2. */
static PGresult *query_with_json(struct ds_db *db, enum ds_sql_id id, json_t *param,
				 const char *param2, struct ds_error *err)
{
	char *text = json_dumps(param, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *params[] = { text, param2 };
	PGresult *res = ds_sql_query(db, id, param2 ? 2 : 1, params, err);

	free(text);
	return res;
}

/*
 * End the transaction a result was made in: COMMIT when there is a result and commit
 * is set, else ROLLBACK. Returns the result, or NULL if the COMMIT failed.
 */
static json_t *finish(struct ds_db *db, json_t *result, int commit, struct ds_error *err)
{
	if (!result || !commit) {
		ds_db_rollback(db);
		return result;
	}
	if (ds_db_exec(db, "COMMIT", err) < 0) {
		json_decref(result);
		return NULL;
	}
	return result;
}

/* The audit row of a change that succeeded; touched is consumed. */
static int audit_change(struct ds_db *db, struct ds_audit *a, json_t *touched, struct ds_error *err)
{
	ds_audit_touch(a, touched);
	return ds_audit_ok(db, a, err);
}

/* "unknown graph 'cor' (did you mean 'core'?)", the candidates read by names. */
static int unknown_name(struct ds_db *db, const char *what, const char *name, enum ds_sql_id names,
			struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, names, 0, NULL, err);
	const char **candidates, *best;
	int n;

	if (!res)
		return -1;
	n = PQntuples(res);
	candidates = ds_xmalloc((size_t)(n + 1) * sizeof(*candidates));
	for (int i = 0; i < n; i++)
		candidates[i] = PQgetvalue(res, i, 0);
	candidates[n] = NULL;
	best = ds_closest(name, candidates);
	if (best)
		ds_error_set(err, DS_ERR_FAILED, "unknown %s '%s' (did you mean '%s'?)", what, name,
			     best);
	else
		ds_error_set(err, DS_ERR_FAILED, "unknown %s '%s'", what, name);
	ds_error_hint(err, "'pipeline list' shows the tasks and their graphs");
	free(candidates);
	PQclear(res);
	return -1;
}

/* Reading what is stored. */

static char *string_or_null(json_t *obj, const char *field)
{
	const char *s = json_string_value(json_object_get(obj, field));

	return s ? ds_xstrdup(s) : NULL;
}

static void add_stored_graph(struct ds_pipeline *p, json_t *g)
{
	p->graphs = ds_xrealloc(p->graphs, (size_t)(p->ngraphs + 1) * sizeof(*p->graphs));
	p->graphs[p->ngraphs++] = (struct ds_graph_def){
		.name = string_or_null(g, "name"),
		.max_active = (int)json_integer_value(json_object_get(g, "max_active")),
		.paused = json_is_true(json_object_get(g, "paused")),
		.breaker = json_incref(json_object_get(g, "breaker")),
		.schedule = json_incref(json_object_get(g, "schedule")),
		.removed = json_is_true(json_object_get(g, "removed")),
	};
}

static void add_stored_task(struct ds_pipeline *p, json_t *t)
{
	json_t *deps = json_object_get(t, "depends_on"), *d;
	struct ds_task_def def = {
		.name = string_or_null(t, "name"),
		.graph = string_or_null(t, "graph"),
		.file = string_or_null(t, "source"),
		.removed = json_is_true(json_object_get(t, "removed")),
		.definition = json_incref(json_object_get(t, "definition")),
	};
	size_t i;

	ds_key_kind_parse(json_string_value(json_object_get(t, "key")), &def.key);
	def.deps = ds_xmalloc(json_array_size(deps) * sizeof(*def.deps));
	json_array_foreach(deps, i, d) def.deps[def.ndeps++] =
		(struct ds_task_dep){ string_or_null(d, "task"),
				      (int)json_integer_value(json_object_get(d, "offset")),
				      (int)i };
	p->tasks = ds_xrealloc(p->tasks, (size_t)(p->ntasks + 1) * sizeof(*p->tasks));
	p->tasks[p->ntasks++] = def;
}

static void add_stored_conn(struct ds_pipeline *p, json_t *c)
{
	p->conns = ds_xrealloc(p->conns, (size_t)(p->nconns + 1) * sizeof(*p->conns));
	p->conns[p->nconns++] = (struct ds_conn_def){
		.name = string_or_null(c, "name"),
		.conninfo = string_or_null(c, "conninfo"),
		.file = string_or_null(c, "source"),
	};
}

int ds_pipeline_read_stored(struct ds_db *db, struct ds_pipeline *p, struct ds_error *err)
{
	json_t *doc = query_json(db, DS_SQL_PIPELINE_STORED, 0, NULL, err), *v;
	size_t i;

	if (!doc)
		return -1;
	json_array_foreach(json_object_get(doc, "connections"), i, v) add_stored_conn(p, v);
	json_array_foreach(json_object_get(doc, "graphs"), i, v) add_stored_graph(p, v);
	json_array_foreach(json_object_get(doc, "tasks"), i, v) add_stored_task(p, v);
	json_decref(doc);
	return 0;
}

/* Loading. */

/*
 * The connections to write: added, changed, or moved to another file (which owns it
 * from then on: a load of the file it left does not remove it).
 */
static json_t *conn_rows(const struct ds_pipeline *files, const struct ds_pipeline *stored,
			 const struct ds_load_plan *plan)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->nconns; i++) {
		const struct ds_conn_def *c = &files->conns[i];
		const char *source =
			plan->stored_conn[i] >= 0 ? stored->conns[plan->stored_conn[i]].file : NULL;

		if (plan->conn_change[i] != DS_UNCHANGED || !source || strcmp(source, c->file))
			json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "name", c->name,
							      "conninfo", c->conninfo, "source",
							      c->file));
	}
	return rows;
}

static json_t *removed_conn_names(const struct ds_pipeline *stored, const struct ds_load_plan *plan)
{
	json_t *names = json_array();

	for (int i = 0; i < plan->nremoved_conns; i++)
		json_array_append_new(names,
				      json_string(stored->conns[plan->removed_conns[i]].name));
	return names;
}

static json_t *graph_rows(const struct ds_pipeline *files, const struct ds_load_plan *plan)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->ngraphs; i++) {
		const struct ds_graph_def *g = &files->graphs[i];
		/* null: the file does not say, so the graph stays as paused or not as it is. */
		json_t *paused = g->paused < 0 ? json_null() : json_boolean(g->paused);

		if (plan->graph_change[i] != DS_UNCHANGED)
			json_array_append_new(rows, json_pack("{s:s, s:i, s:o, s:O, s:O}", "name",
							      g->name, "max_active", g->max_active,
							      "paused", paused, "breaker",
							      g->breaker, "schedule", g->schedule));
		else
			json_decref(paused);
	}
	return rows;
}

static json_t *task_rows(const struct ds_pipeline *files, const struct ds_load_plan *plan)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->ntasks; i++) {
		char *output;

		if (!plan->write_task[i])
			continue;
		output = ds_task_output_text(files->tasks[i].definition);
		json_array_append_new(rows,
				      json_pack("{s:s, s:O, s:s}", "source", files->tasks[i].file,
						"definition", files->tasks[i].definition, "output",
						output));
		free(output);
	}
	return rows;
}

static json_t *dep_rows(const struct ds_pipeline *files)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->ntasks; i++) {
		const struct ds_task_def *t = &files->tasks[i];

		for (int k = 0; k < t->ndeps; k++)
			json_array_append_new(rows, json_pack("{s:s, s:s, s:i}", "task", t->name,
							      "upstream", t->deps[k].task, "offset",
							      t->deps[k].offset));
	}
	return rows;
}

static char *task_names(const struct ds_pipeline *files)
{
	json_t *names = json_array();
	char *text;

	for (int i = 0; i < files->ntasks; i++)
		json_array_append_new(names, json_string(files->tasks[i].name));
	text = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	return text;
}

static int write_rows(struct ds_db *db, enum ds_sql_id id, json_t *rows, const char *param2,
		      struct ds_error *err)
{
	PGresult *res = json_array_size(rows) ? query_with_json(db, id, rows, param2, err) : NULL;
	int rc = !json_array_size(rows) || res ? 0 : -1;

	PQclear(res);
	json_decref(rows);
	return rc;
}

/* Runs of removed tasks: how many were cancelled, and how many were asked to stop. */
struct stopped_runs {
	long cancelled, stopping;
};

static int remove_tasks(struct ds_db *db, const struct ds_pipeline *stored,
			const struct ds_load_plan *plan, struct stopped_runs *runs,
			struct ds_error *err)
{
	json_t *names = json_array();
	PGresult *res;

	for (int i = 0; i < plan->nremoved; i++)
		json_array_append_new(names, json_string(stored->tasks[plan->removed[i]].name));
	res = query_with_json(db, DS_SQL_PIPELINE_REMOVE_TASKS, names, NULL, err);
	json_decref(names);
	if (!res)
		return -1;
	runs->cancelled = atol(PQgetvalue(res, 0, 0));
	runs->stopping = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/*
 * Connections and graphs first (tasks refer to them), then tasks, their dependencies,
 * the removals.
 */
static int apply(struct ds_db *db, const struct ds_pipeline *files,
		 const struct ds_pipeline *stored, const struct ds_load_plan *plan,
		 struct stopped_runs *runs, struct ds_error *err)
{
	char *names = task_names(files);
	int rc = 0;

	if (write_rows(db, DS_SQL_PIPELINE_WRITE_CONNECTIONS, conn_rows(files, stored, plan), NULL,
		       err) < 0 ||
	    write_rows(db, DS_SQL_PIPELINE_REMOVE_CONNECTIONS, removed_conn_names(stored, plan),
		       NULL, err) < 0 ||
	    write_rows(db, DS_SQL_PIPELINE_WRITE_GRAPHS, graph_rows(files, plan), NULL, err) < 0 ||
	    write_rows(db, DS_SQL_PIPELINE_WRITE_TASKS, task_rows(files, plan), NULL, err) < 0 ||
	    write_rows(db, DS_SQL_PIPELINE_WRITE_DEPS, dep_rows(files), names, err) < 0 ||
	    remove_tasks(db, stored, plan, runs, err) < 0)
		rc = -1;
	free(names);
	return rc;
}

static json_t *counts(const int *by_change)
{
	json_t *c = json_object();

	for (int i = DS_ADDED; i < DS_NCHANGES; i++)
		json_object_set_new(c, ds_change_name((enum ds_change)i),
				    json_integer(by_change[i]));
	json_object_set_new(c, "unchanged", json_integer(by_change[DS_UNCHANGED]));
	return c;
}

static json_t *change_row(const char *object, const char *name, const char *graph,
			  enum ds_change change)
{
	return json_pack("{s:s, s:s, s:s?, s:s}", "object", object, "name", name, "graph", graph,
			 "change", ds_change_name(change));
}

/* A change row's "diff", the unified diff of what changed (consumed), if any. */
static json_t *with_diff(json_t *row, char *diff)
{
	if (diff)
		json_object_set_new(row, "diff", json_string(diff));
	free(diff);
	return row;
}

/*
 * Connections (then those removed), graphs, then the files' tasks in file order, then
 * the tasks removed; a changed connection, graph or task with its "diff" against the
 * stored one.
 */
static json_t *changes(const struct ds_pipeline *files, const struct ds_pipeline *stored,
		       const struct ds_load_plan *plan)
{
	json_t *list = json_array(), *row;

	for (int i = 0; i < files->nconns; i++) {
		const struct ds_conn_def *c = &files->conns[i];

		if (plan->conn_change[i] == DS_UNCHANGED)
			continue;
		row = change_row("connection", c->name, NULL, plan->conn_change[i]);
		if (plan->conn_change[i] == DS_CHANGED)
			row = with_diff(row,
					ds_conn_def_diff(&stored->conns[plan->stored_conn[i]], c));
		json_array_append_new(list, row);
	}
	for (int i = 0; i < plan->nremoved_conns; i++)
		json_array_append_new(list, change_row("connection",
						       stored->conns[plan->removed_conns[i]].name,
						       NULL, DS_REMOVED));
	for (int i = 0; i < files->ngraphs; i++) {
		const struct ds_graph_def *g = &files->graphs[i];

		if (plan->graph_change[i] == DS_UNCHANGED)
			continue;
		row = change_row("graph", g->name, g->name, plan->graph_change[i]);
		if (plan->graph_change[i] == DS_CHANGED)
			row = with_diff(
				row, ds_graph_def_diff(&stored->graphs[plan->stored_graph[i]], g));
		json_array_append_new(list, row);
	}
	for (int i = 0; i < files->ntasks; i++) {
		const struct ds_task_def *t = &files->tasks[i];

		if (plan->task_change[i] == DS_UNCHANGED)
			continue;
		row = change_row("task", t->name, t->graph, plan->task_change[i]);
		if (plan->task_change[i] == DS_CHANGED)
			row = with_diff(row,
					ds_task_def_diff(&stored->tasks[plan->stored_task[i]], t));
		json_array_append_new(list, row);
	}
	for (int i = 0; i < plan->nremoved; i++) {
		const struct ds_task_def *t = &stored->tasks[plan->removed[i]];

		json_array_append_new(list, change_row("task", t->name, t->graph, DS_REMOVED));
	}
	return list;
}

/* The counts, as the report and the audit log give them. */
static json_t *summary(char *const *paths, int npaths, const struct ds_load_plan *plan,
		       const struct stopped_runs *runs)
{
	json_t *files = json_array();

	for (int i = 0; i < npaths; i++)
		json_array_append_new(files, json_string(paths[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I}", "files", files, "connections",
			 counts(plan->conns), "graphs", counts(plan->graphs), "tasks",
			 counts(plan->tasks), "runs_cancelled", (json_int_t)runs->cancelled,
			 "runs_stopping", (json_int_t)runs->stopping);
}

/* Loads take turns, so that each plans against what the one before it left. */
static int lock_loads(struct ds_db *db, struct ds_error *err)
{
	const char *params[] = { db->schema };
	PGresult *res = ds_sql_query(db, DS_SQL_PIPELINE_LOCK_LOADS, 1, params, err);

	PQclear(res);
	return res ? 0 : -1;
}

struct load {
	char *const *paths;
	int npaths;
	const char *keep_current; /* task names, comma separated, or NULL */
	struct ds_audit *audit;
	int dry_run;
	struct ds_pipeline files, stored;
	struct ds_load_plan plan;
};

/* A time zone a file names, and where: for the message if the server does not know it. */
struct zone_use {
	const char *file;
	char *path;
};

static void note_zone(json_t *zones, struct zone_use **uses, int *n, const char *file, json_t *tz,
		      char *path)
{
	if (!json_is_string(tz)) {
		free(path);
		return;
	}
	*uses = ds_xrealloc(*uses, (size_t)(*n + 1) * sizeof(**uses));
	(*uses)[*n] = (struct zone_use){ file, path };
	json_array_append_new(zones, json_pack("{s:i, s:O}", "task", *n, "tz", tz));
	(*n)++;
}

/*
 * Add a problem for each time zone of the files (of SLAs and schedules) that the server
 * does not know: it reads them at every claim and status, where an unknown one would
 * fail them all. One query for them all; the plan then reports these with the files'
 * other problems.
 */
static int check_time_zones(struct ds_db *db, struct ds_pipeline *files, struct ds_error *err)
{
	json_t *zones = json_array(), *def;
	struct zone_use *uses = NULL;
	PGresult *res = NULL;
	int n = 0, rc = 0;

	for (int i = 0; i < files->ntasks; i++) {
		const struct ds_task_def *t = &files->tasks[i];

		def = t->definition;
		note_zone(zones, &uses, &n, t->file,
			  json_object_get(json_object_get(def, "sla"), "timezone"),
			  ds_xprintf(DS_TASK_PATH ".sla.timezone", t->index, t->name));
		note_zone(zones, &uses, &n, t->file,
			  json_object_get(json_object_get(def, "schedule"), "timezone"),
			  ds_xprintf(DS_TASK_PATH ".schedule.timezone", t->index, t->name));
	}
	for (int i = 0; i < files->ngraphs; i++) {
		const struct ds_graph_def *g = &files->graphs[i];

		note_zone(zones, &uses, &n, g->file, json_object_get(g->schedule, "timezone"),
			  ds_xprintf("graphs.%s.schedule.timezone", g->name));
	}
	if (n)
		res = query_with_json(db, DS_SQL_PIPELINE_UNKNOWN_TIME_ZONES, zones, NULL, err);
	if (n && !res)
		rc = -1;
	for (int r = 0; res && r < PQntuples(res); r++) {
		const struct zone_use *u = &uses[atoi(PQgetvalue(res, r, 0))];

		ds_pipeline_problem(files, u->file, u->path,
				    "unknown time zone '%s': the server has no such zone (see "
				    "pg_timezone_names), such as 'Europe/Paris' or 'UTC'",
				    PQgetvalue(res, r, 1));
	}
	PQclear(res);
	for (int i = 0; i < n; i++)
		free(uses[i].path);
	free(uses);
	json_decref(zones);
	return rc;
}

/*
 * What the load means for the next pass of the schedule, asked of the server once the
 * definitions are written, before the commit (or the rollback of a dry run): the tasks
 * whose schedule it adds or opens earlier than starts (as they were before), and the
 * runs schedule_due() finds for them. JSON null when there are none; NULL on failure.
 */
static json_t *schedule_plan(struct ds_db *db, json_t *starts, struct ds_error *err)
{
	char *text = json_dumps(starts, JSON_COMPACT);
	const char *params[] = { text };
	json_t *plan = query_json(db, DS_SQL_SCHEDULE_LOAD_PLAN, 1, params, err);

	free(text);
	return plan;
}

/* "a,b" as a JSON array of names, the empty ones left out. Caller frees. */
static json_t *name_list(const char *text)
{
	json_t *names = json_array();

	while (text && *text) {
		size_t n = strcspn(text, ",");

		if (n)
			json_array_append_new(names, json_stringn(text, n));
		text += n + (text[n] == ',');
	}
	return names;
}

/* The tasks the load changed or revived: those whose keys it may make stale. */
static json_t *changed_names(const struct ds_pipeline *files, const struct ds_load_plan *plan)
{
	json_t *names = json_array();

	for (int i = 0; i < files->ntasks; i++)
		if (plan->task_change[i] == DS_CHANGED || plan->task_change[i] == DS_REVIVED)
			json_array_append_new(names, json_string(files->tasks[i].name));
	return names;
}

/* Two JSON parameters, $1 and $2, to a statement; its rows. */
static json_t *rows_with(struct ds_db *db, enum ds_sql_id id, json_t *p1, json_t *p2,
			 struct ds_error *err)
{
	char *t1 = json_dumps(p1, JSON_COMPACT), *t2 = json_dumps(p2, JSON_COMPACT);
	const char *params[] = { t1, t2 };
	json_t *rows = ds_sql_json_rows(db, id, 2, params, err);

	free(t1);
	free(t2);
	return rows;
}

/*
 * --keep-current: the keys of those tasks built by the version before the load count as
 * built by the new one. {name: keys}; NULL with err for a name that is not a task.
 */
static json_t *keep_current(struct ds_db *db, const char *names, json_t *versions,
			    struct ds_error *err)
{
	json_t *list = name_list(names), *rows, *row, *kept;
	size_t i;

	rows = rows_with(db, DS_SQL_PIPELINE_KEEP_CURRENT, versions, list, err);
	json_decref(list);
	if (!rows)
		return NULL;
	kept = json_object();
	json_array_foreach(rows, i, row)
	{
		const char *task = json_string_value(json_object_get(row, "task"));

		if (!json_is_true(json_object_get(row, "known"))) {
			ds_error_set(err, DS_ERR_FAILED, "--keep-current: unknown task '%s'", task);
			ds_error_hint(err, "name tasks the files define, comma separated; nothing "
					   "was changed");
			json_decref(kept);
			kept = NULL;
			break;
		}
		json_object_set(kept, task, json_object_get(row, "keys"));
	}
	json_decref(rows);
	return kept;
}

/*
 * What the load makes stale, per task it changed: {"keys": total, "tasks": [{task,
 * version_changed, stale, tasks: {name: keys}}]}, kept current first if asked. NULL on
 * failure.
 */
static json_t *versions_report(struct ds_db *db, struct load *l, struct ds_error *err)
{
	json_t *versions = ds_task_versions_write(db, err), *names, *rows, *kept = NULL, *report;

	if (!versions)
		return NULL;
	if (l->keep_current && !(kept = keep_current(db, l->keep_current, versions, err))) {
		json_decref(versions);
		return NULL;
	}
	names = changed_names(&l->files, &l->plan);
	rows = rows_with(db, DS_SQL_PIPELINE_STALE_PLAN, versions, names, err);
	json_decref(names);
	json_decref(versions);
	if (!rows) {
		json_decref(kept);
		return NULL;
	}
	report = json_pack("{s:I, s:o}", "keys", ds_rows_take_total(rows), "tasks", rows);
	if (kept)
		json_object_set_new(report, "kept_current", kept);
	return report;
}

/* Inside the transaction: plan against what is stored, apply, audit; the report. */
static json_t *load_in_transaction(struct ds_db *db, struct load *l, struct ds_error *err)
{
	struct stopped_runs runs = { 0, 0 };
	json_t *report, *starts, *scheduled, *stale, *touched;

	if (check_time_zones(db, &l->files, err) < 0 || lock_loads(db, err) < 0 ||
	    ds_pipeline_read_stored(db, &l->stored, err) < 0)
		return NULL;
	if (ds_pipeline_plan(&l->files, &l->stored, &l->plan) < 0) {
		ds_pipeline_error(&l->files, err);
		return NULL;
	}
	starts = query_json(db, DS_SQL_SCHEDULE_STARTS, 0, NULL, err);
	if (!starts)
		return NULL;
	scheduled = apply(db, &l->files, &l->stored, &l->plan, &runs, err) < 0
			    ? NULL
			    : schedule_plan(db, starts, err);
	json_decref(starts);
	if (!scheduled)
		return NULL;
	stale = versions_report(db, l, err);
	if (!stale) {
		json_decref(scheduled);
		return NULL;
	}
	touched = summary(l->paths, l->npaths, &l->plan, &runs);
	json_object_set_new(touched, "stale_keys",
			    json_integer(json_integer_value(json_object_get(stale, "keys"))));
	if (json_object_get(stale, "kept_current"))
		json_object_set(touched, "kept_current", json_object_get(stale, "kept_current"));
	if (audit_change(db, l->audit, touched, err) < 0) {
		json_decref(scheduled);
		json_decref(stale);
		return NULL;
	}
	report = summary(l->paths, l->npaths, &l->plan, &runs);
	json_object_set_new(report, "stale", stale);
	if (!json_is_null(scheduled))
		json_object_set(report, "schedule", scheduled);
	json_decref(scheduled);
	json_object_set_new(report, "dry_run", json_boolean(l->dry_run));
	json_object_set_new(report, "changes", changes(&l->files, &l->stored, &l->plan));
	return report;
}

json_t *ds_pipeline_load(struct ds_db *db, char *const *paths, int npaths, struct ds_audit *audit,
			 int dry_run, struct ds_error *err)
{
	return ds_pipeline_load_keeping(db, paths, npaths, NULL, audit, dry_run, err);
}

json_t *ds_pipeline_load_keeping(struct ds_db *db, char *const *paths, int npaths,
				 const char *keep_current, struct ds_audit *audit, int dry_run,
				 struct ds_error *err)
{
	struct load l = { .paths = paths,
			  .npaths = npaths,
			  .keep_current = keep_current,
			  .audit = audit,
			  .dry_run = dry_run };
	json_t *report = NULL;

	ds_pipeline_init(&l.files);
	ds_pipeline_init(&l.stored);
	for (int i = 0; i < npaths; i++)
		ds_pipeline_read_file(&l.files, paths[i]);
	/*
	 * A file that could not be parsed at all would make every reference into it look
	 * unknown; report what is wrong with the files themselves first.
	 */
	if (l.files.unreadable) {
		ds_pipeline_error(&l.files, err);
	} else if (ds_db_exec(db, "BEGIN", err) == 0) {
		/*
		 * A dry run takes the same path and rolls back, so that what it reports is
		 * exactly what the load would do.
		 */
		report = finish(db, load_in_transaction(db, &l, err), !dry_run, err);
	}
	ds_load_plan_release(&l.plan);
	ds_pipeline_release(&l.files);
	ds_pipeline_release(&l.stored);
	return report;
}

/* Whether conn's connection can be made; why not in err. */
static int reachable(const struct ds_conn_def *c, struct ds_error *err)
{
	char *what = ds_xprintf("cannot open connection '%s'", c->name);
	PGconn *conn = ds_db_connect_conninfo(c->conninfo, "datashell", what, err);

	free(what);
	if (!conn)
		return 0;
	PQfinish(conn);
	return 1;
}

/* The connection named name in p, or NULL. */
static const struct ds_conn_def *conn_named(const struct ds_pipeline *p, const char *name)
{
	for (int i = 0; i < p->nconns; i++)
		if (strcmp(p->conns[i].name, name) == 0)
			return &p->conns[i];
	return NULL;
}

/* Add conn to the list to try, once. */
static void add_to_try(const struct ds_conn_def ***list, int *n, const struct ds_conn_def *conn)
{
	for (int i = 0; i < *n; i++)
		if ((*list)[i] == conn)
			return;
	*list = ds_xrealloc(*list, (size_t)(*n + 1) * sizeof(**list));
	(*list)[(*n)++] = conn;
}

/* Add the stored connection name to the list to try, if the files do not declare it. */
static void add_stored_to_try(const struct ds_conn_def ***list, int *n,
			      const struct ds_pipeline *files, const struct ds_pipeline *stored,
			      const char *name)
{
	if (name && !conn_named(files, name) && conn_named(stored, name))
		add_to_try(list, n, conn_named(stored, name));
}

/*
 * What --check-connections tries: the connections the files declare, then those their
 * graphs and tasks name that only the store declares (a file loaded before).
 */
static int connections_to_try(const struct ds_pipeline *files, const struct ds_pipeline *stored,
			      const struct ds_conn_def ***list)
{
	int n = 0;

	*list = NULL;
	for (int i = 0; i < files->nconns; i++)
		add_to_try(list, &n, &files->conns[i]);
	for (int i = 0; i < files->ngraphs; i++)
		add_stored_to_try(list, &n, files, stored, files->graphs[i].connection);
	for (int i = 0; i < files->ntasks; i++)
		add_stored_to_try(list, &n, files, stored,
				  json_string_value(json_object_get(files->tasks[i].definition,
								    "connection")));
	return n;
}

json_t *ds_pipeline_check_connections(struct ds_db *db, char *const *paths, int npaths,
				      struct ds_error *err)
{
	struct ds_pipeline files, stored;
	const struct ds_conn_def **to_try = NULL;
	json_t *out = NULL;
	int n;

	ds_pipeline_init(&files);
	ds_pipeline_init(&stored);
	for (int i = 0; i < npaths; i++)
		ds_pipeline_read_file(&files, paths[i]);
	if (files.nerrors) {
		ds_pipeline_error(&files, err);
	} else if (ds_pipeline_read_stored(db, &stored, err) == 0) {
		n = connections_to_try(&files, &stored, &to_try);
		out = json_array();
		for (int i = 0; i < n; i++) {
			struct ds_error why = { 0 };
			int ok = reachable(to_try[i], &why);

			json_array_append_new(
				out, json_pack("{s:s, s:s?, s:b, s:b, s:s?}", "connection",
					       to_try[i]->name, "file", to_try[i]->file, "stored",
					       !conn_named(&files, to_try[i]->name), "reachable",
					       ok, "error", ok ? NULL : why.message));
		}
	}
	free(to_try);
	ds_pipeline_release(&files);
	ds_pipeline_release(&stored);
	return out;
}

/* Listing and showing. */

static int graph_exists(struct ds_db *db, const char *graph, struct ds_error *err)
{
	const char *params[] = { graph };
	PGresult *res = ds_sql_query(db, DS_SQL_PIPELINE_GRAPH_EXISTS, 1, params, err);
	int found;

	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found ? 0 : unknown_name(db, "graph", graph, DS_SQL_NAMES_GRAPHS, err);
}

json_t *ds_pipeline_list(struct ds_db *db, const char *graph, struct ds_error *err)
{
	const char *params[] = { graph };

	if (graph && graph_exists(db, graph, err) < 0)
		return NULL;
	return query_json(db, DS_SQL_PIPELINE_LIST, 1, params, err);
}

json_t *ds_pipeline_show(struct ds_db *db, const char *task, struct ds_error *err)
{
	const char *params[] = { task };
	json_t *doc = query_json(db, DS_SQL_PIPELINE_SHOW, 1, params, err);

	if (doc && json_is_null(doc)) {
		json_decref(doc);
		unknown_name(db, "task", task, DS_SQL_NAMES_TASKS, err);
		return NULL;
	}
	return doc;
}

/* Pausing and resuming. */

static json_t *set_paused_in_transaction(struct ds_db *db, const char *graph, int paused,
					 struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = { graph, paused ? "true" : "false" };
	json_t *result = query_json(db, DS_SQL_PIPELINE_SET_PAUSED, 2, params, err);

	if (result && json_is_null(result)) {
		json_decref(result);
		unknown_name(db, "graph", graph, DS_SQL_NAMES_GRAPHS, err);
		return NULL;
	}
	if (result && audit_change(db, audit, json_deep_copy(result), err) < 0) {
		json_decref(result);
		return NULL;
	}
	return result;
}

json_t *ds_graph_set_paused(struct ds_db *db, const char *graph, int paused, struct ds_audit *audit,
			    int dry_run, struct ds_error *err)
{
	if (ds_db_exec(db, "BEGIN", err) < 0)
		return NULL;
	return finish(db, set_paused_in_transaction(db, graph, paused, audit, err), !dry_run, err);
}
