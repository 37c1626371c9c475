/*
 * pipeline_store.c: pipeline definitions in the state store: loading files in one
 * transaction, listing and showing tasks, pausing and resuming graphs.
 *
 * Values reach SQL as parameters; many rows at once travel as one JSON parameter and
 * are unpacked by the server (jsonb_to_recordset), so a load is a handful of statements
 * however many tasks it holds. The schema is pasted only as db->schema_ident, already
 * quoted: the statements below are templates where %1$s stands for it.
 */
#include <stdlib.h>

#include "audit.h"
#include "pipeline.h"

/* Run a statement template (%1$s: the state schema) with text parameters. PQclear it. */
static PGresult *query(struct ds_db *db, const char *template, int nparams,
		       const char *const *params, struct ds_error *err)
{
	char *sql = ds_xprintf(template, db->schema_ident);
	PGresult *res = ds_db_query(db, sql, nparams, params, err);

	free(sql);
	return res;
}

/* As query(), for a statement whose result is not needed. */
static int command(struct ds_db *db, const char *template, int nparams, const char *const *params,
		   struct ds_error *err)
{
	PGresult *res = query(db, template, nparams, params, err);
	int rc = res ? 0 : -1;

	PQclear(res);
	return rc;
}

/*
 * The JSON document a statement returns as its one value; JSON null when it returns no
 * row or SQL NULL; NULL with err filled when it fails.
 */
static json_t *query_json(struct ds_db *db, const char *template, int nparams,
			  const char *const *params, struct ds_error *err)
{
	PGresult *res = query(db, template, nparams, params, err);
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
static PGresult *query_with_json(struct ds_db *db, const char *template, json_t *param,
				 const char *param2, struct ds_error *err)
{
	char *text = json_dumps(param, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *params[] = { text, param2 };
	PGresult *res = query(db, template, param2 ? 2 : 1, params, err);

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

/* "unknown graph 'cor' (did you mean 'core'?)", the candidates read by names_sql. */
static int unknown_name(struct ds_db *db, const char *what, const char *name, const char *names_sql,
			struct ds_error *err)
{
	PGresult *res = query(db, names_sql, 0, NULL, err);
	const char **names, *best;
	int n;

	if (!res)
		return -1;
	n = PQntuples(res);
	names = ds_xmalloc((size_t)(n + 1) * sizeof(*names));
	for (int i = 0; i < n; i++)
		names[i] = PQgetvalue(res, i, 0);
	names[n] = NULL;
	best = ds_closest(name, names);
	if (best)
		ds_error_set(err, DS_ERR_FAILED, "unknown %s '%s' (did you mean '%s'?)", what, name,
			     best);
	else
		ds_error_set(err, DS_ERR_FAILED, "unknown %s '%s'", what, name);
	ds_error_hint(err, "'pipeline list' shows the tasks and their graphs");
	free(names);
	PQclear(res);
	return -1;
}

static const char graph_names_sql[] =
	"SELECT name FROM %1$s.graphs WHERE removed_at IS NULL ORDER BY name";
static const char task_names_sql[] =
	"SELECT name FROM %1$s.tasks WHERE removed_at IS NULL ORDER BY name";

/* Reading what is stored. */

static const char stored_sql[] =
	"SELECT json_build_object("
	" 'graphs', (SELECT coalesce(json_agg(json_build_object('name', name,"
	"     'max_active', max_active, 'paused', paused, 'breaker', breaker,"
	"     'removed', removed_at IS NOT NULL)"
	"     ORDER BY name), '[]') FROM %1$s.graphs),"
	" 'tasks', (SELECT coalesce(json_agg(json_build_object('name', t.name, 'graph', t.graph,"
	"     'key', t.key_kind, 'source', t.source, 'removed', t.removed_at IS NOT NULL,"
	"     'definition', t.definition, 'depends_on',"
	"       (SELECT coalesce(json_agg(json_build_object('task', u.name, 'offset', d.key_offset)"
	"                                 ORDER BY u.name, d.key_offset), '[]')"
	"        FROM %1$s.task_deps d JOIN %1$s.tasks u ON u.id = d.upstream_id"
	"        WHERE d.task_id = t.id))"
	"     ORDER BY t.name), '[]') FROM %1$s.tasks t))";

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

int ds_pipeline_read_stored(struct ds_db *db, struct ds_pipeline *p, struct ds_error *err)
{
	json_t *doc = query_json(db, stored_sql, 0, NULL, err), *v;
	size_t i;

	if (!doc)
		return -1;
	json_array_foreach(json_object_get(doc, "graphs"), i, v) add_stored_graph(p, v);
	json_array_foreach(json_object_get(doc, "tasks"), i, v) add_stored_task(p, v);
	json_decref(doc);
	return 0;
}

/* Loading. */

/* The graphs to write: added, revived or changed; paused null to leave it alone. */
static const char graphs_sql[] =
	"WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
	"           AS x(name text, max_active integer, paused boolean, breaker jsonb)),"
	" updated AS (UPDATE %1$s.graphs g SET max_active = x.max_active, breaker = x.breaker,"
	"     paused = coalesce(x.paused, g.paused),"
	"     paused_at = CASE WHEN x.paused IS NULL OR x.paused = g.paused THEN g.paused_at"
	"                      WHEN x.paused THEN now() END,"
	"     paused_by = CASE WHEN x.paused IS NULL OR x.paused = g.paused THEN g.paused_by"
	"                      WHEN x.paused THEN current_user END,"
	"     removed_at = NULL"
	"   FROM x WHERE g.name = x.name)"
	"INSERT INTO %1$s.graphs (name, max_active, breaker, paused, paused_at, paused_by)"
	" SELECT name, max_active, breaker, coalesce(paused, false),"
	"        CASE WHEN paused THEN now() END,"
	"        CASE WHEN paused THEN current_user END"
	" FROM x WHERE NOT EXISTS (SELECT 1 FROM %1$s.graphs g WHERE g.name = x.name)";

/* The tasks to write, from their normalized definitions; a revived task keeps its id. */
static const char tasks_sql[] =
	"INSERT INTO %1$s.tasks AS t (name, graph, key_kind, sql, command, target, retries,"
	"    retry_delay_s, timeout_s, checks, complete_when, definition, source)"
	" SELECT d->>'name', d->>'graph', d->>'key', d->>'sql', d->>'command', d->>'target',"
	"        (d->>'retries')::integer, (d->>'retry_delay')::integer,"
	"        (d->>'timeout')::integer, d->'checks', d->>'complete_when', d, x.source"
	" FROM jsonb_to_recordset($1::jsonb) AS x(source text, definition jsonb),"
	"      LATERAL (SELECT x.definition AS d) AS y"
	" ON CONFLICT (name) DO UPDATE SET graph = excluded.graph, key_kind = excluded.key_kind,"
	"    sql = excluded.sql, command = excluded.command, target = excluded.target,"
	"    retries = excluded.retries, retry_delay_s = excluded.retry_delay_s,"
	"    timeout_s = excluded.timeout_s, checks = excluded.checks,"
	"    complete_when = excluded.complete_when, source = excluded.source,"
	"    loaded_at = CASE WHEN t.definition = excluded.definition AND t.removed_at IS NULL"
	"                     THEN t.loaded_at ELSE now() END,"
	"    definition = excluded.definition, removed_at = NULL";

/*
 * The dependencies of the files' tasks ($2: their names) become exactly $1: rows no
 * longer wanted go, new ones come, the rest are left alone.
 */
static const char deps_sql[] =
	"WITH want AS (SELECT t.id AS task_id, u.id AS upstream_id, x.\"offset\" AS key_offset"
	"   FROM jsonb_to_recordset($1::jsonb) AS x(task text, upstream text, \"offset\" integer)"
	"   JOIN %1$s.tasks t ON t.name = x.task JOIN %1$s.tasks u ON u.name = x.upstream),"
	" dropped AS (DELETE FROM %1$s.task_deps d USING %1$s.tasks t"
	"   WHERE t.id = d.task_id AND t.name IN (SELECT jsonb_array_elements_text($2::jsonb))"
	"     AND NOT EXISTS (SELECT 1 FROM want w WHERE w.task_id = d.task_id"
	"         AND w.upstream_id = d.upstream_id AND w.key_offset = d.key_offset))"
	"INSERT INTO %1$s.task_deps (task_id, upstream_id, key_offset)"
	" SELECT task_id, upstream_id, key_offset FROM want ON CONFLICT DO NOTHING";

/*
 * Removed tasks are marked, never deleted, so their runs keep their history. They
 * leave the dependency graph; their waiting runs are cancelled and running ones are
 * asked to stop (the worker running them sees cancel_requested).
 */
static const char remove_sql[] =
	"WITH gone AS (UPDATE %1$s.tasks SET removed_at = now()"
	"   WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb)) AND removed_at IS NULL"
	"   RETURNING id),"
	" unlinked AS (DELETE FROM %1$s.task_deps WHERE task_id IN (SELECT id FROM gone)),"
	" stopped AS (UPDATE %1$s.runs r"
	"   SET state = CASE WHEN r.state = 'running' THEN r.state ELSE 'cancelled' END,"
	"       cancel_requested = r.cancel_requested OR r.state = 'running',"
	"       finished_at = CASE WHEN r.state = 'running' THEN r.finished_at ELSE now() END,"
	"       error = CASE WHEN r.state = 'running' THEN r.error"
	"                    ELSE 'cancelled: the task was removed from its pipeline' END"
	"   WHERE r.task_id IN (SELECT id FROM gone) AND r.state IN ('queued', 'held', 'running')"
	"   RETURNING r.state)"
	"SELECT count(*) FILTER (WHERE state = 'cancelled'),"
	"       count(*) FILTER (WHERE state = 'running') FROM stopped";

static json_t *graph_rows(const struct ds_pipeline *files, const struct ds_load_plan *plan)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->ngraphs; i++) {
		const struct ds_graph_def *g = &files->graphs[i];
		/* null: the file does not say, so the graph stays as paused or not as it is. */
		json_t *paused = g->paused < 0 ? json_null() : json_boolean(g->paused);

		if (plan->graph_change[i] != DS_UNCHANGED)
			json_array_append_new(rows,
					      json_pack("{s:s, s:i, s:o, s:O}", "name", g->name,
							"max_active", g->max_active, "paused",
							paused, "breaker", g->breaker));
		else
			json_decref(paused);
	}
	return rows;
}

static json_t *task_rows(const struct ds_pipeline *files, const struct ds_load_plan *plan)
{
	json_t *rows = json_array();

	for (int i = 0; i < files->ntasks; i++)
		if (plan->write_task[i])
			json_array_append_new(rows, json_pack("{s:s, s:O}", "source",
							      files->tasks[i].file, "definition",
							      files->tasks[i].definition));
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

static int write_rows(struct ds_db *db, const char *template, json_t *rows, const char *param2,
		      struct ds_error *err)
{
	PGresult *res =
		json_array_size(rows) ? query_with_json(db, template, rows, param2, err) : NULL;
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
	res = query_with_json(db, remove_sql, names, NULL, err);
	json_decref(names);
	if (!res)
		return -1;
	runs->cancelled = atol(PQgetvalue(res, 0, 0));
	runs->stopping = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/* Graphs first (tasks refer to them), then tasks, their dependencies, the removals. */
static int apply(struct ds_db *db, const struct ds_pipeline *files,
		 const struct ds_pipeline *stored, const struct ds_load_plan *plan,
		 struct stopped_runs *runs, struct ds_error *err)
{
	char *names = task_names(files);
	int rc = write_rows(db, graphs_sql, graph_rows(files, plan), NULL, err) < 0 ||
				 write_rows(db, tasks_sql, task_rows(files, plan), NULL, err) < 0 ||
				 write_rows(db, deps_sql, dep_rows(files), names, err) < 0 ||
				 remove_tasks(db, stored, plan, runs, err) < 0
			 ? -1
			 : 0;

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
	return json_pack("{s:s, s:s, s:s, s:s}", "object", object, "name", name, "graph", graph,
			 "change", ds_change_name(change));
}

/* Graphs, then the files' tasks in file order, then the tasks removed. */
static json_t *changes(const struct ds_pipeline *files, const struct ds_pipeline *stored,
		       const struct ds_load_plan *plan)
{
	json_t *list = json_array();

	for (int i = 0; i < files->ngraphs; i++)
		if (plan->graph_change[i] != DS_UNCHANGED)
			json_array_append_new(list, change_row("graph", files->graphs[i].name,
							       files->graphs[i].name,
							       plan->graph_change[i]));
	for (int i = 0; i < files->ntasks; i++)
		if (plan->task_change[i] != DS_UNCHANGED)
			json_array_append_new(list, change_row("task", files->tasks[i].name,
							       files->tasks[i].graph,
							       plan->task_change[i]));
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
	return json_pack("{s:o, s:o, s:o, s:I, s:I}", "files", files, "graphs",
			 counts(plan->graphs), "tasks", counts(plan->tasks), "runs_cancelled",
			 (json_int_t)runs->cancelled, "runs_stopping", (json_int_t)runs->stopping);
}

/* Loads take turns, so that each plans against what the one before it left. */
static int lock_loads(struct ds_db *db, struct ds_error *err)
{
	const char *params[] = { db->schema };

	return command(db,
		       "SELECT pg_advisory_xact_lock(hashtextextended("
		       "'datashell.pipeline.' || $1, 0))",
		       1, params, err);
}

struct load {
	char *const *paths;
	int npaths;
	struct ds_audit *audit;
	int dry_run;
	struct ds_pipeline files, stored;
	struct ds_load_plan plan;
};

/* Inside the transaction: plan against what is stored, apply, audit; the report. */
static json_t *load_in_transaction(struct ds_db *db, struct load *l, struct ds_error *err)
{
	struct stopped_runs runs = { 0, 0 };
	json_t *report;

	if (lock_loads(db, err) < 0 || ds_pipeline_read_stored(db, &l->stored, err) < 0)
		return NULL;
	if (ds_pipeline_plan(&l->files, &l->stored, &l->plan) < 0) {
		ds_pipeline_error(&l->files, err);
		return NULL;
	}
	if (apply(db, &l->files, &l->stored, &l->plan, &runs, err) < 0 ||
	    audit_change(db, l->audit, summary(l->paths, l->npaths, &l->plan, &runs), err) < 0)
		return NULL;
	report = summary(l->paths, l->npaths, &l->plan, &runs);
	json_object_set_new(report, "dry_run", json_boolean(l->dry_run));
	json_object_set_new(report, "changes", changes(&l->files, &l->stored, &l->plan));
	return report;
}

json_t *ds_pipeline_load(struct ds_db *db, char *const *paths, int npaths, struct ds_audit *audit,
			 int dry_run, struct ds_error *err)
{
	struct load l = { .paths = paths, .npaths = npaths, .audit = audit, .dry_run = dry_run };
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

/* Listing and showing. */

static const char list_sql[] =
	"SELECT coalesce(json_agg(json_build_object('task', t.name, 'graph', t.graph,"
	"    'key', t.key_kind, 'kind', CASE WHEN t.sql IS NOT NULL THEN 'sql' ELSE 'command' END,"
	"    'upstream', coalesce((SELECT string_agg(u.name || CASE WHEN d.key_offset <> 0"
	"        THEN '[' || d.key_offset || ']' ELSE '' END, ', '"
	"        ORDER BY u.name, d.key_offset DESC)"
	"      FROM %1$s.task_deps d JOIN %1$s.tasks u ON u.id = d.upstream_id"
	"      WHERE d.task_id = t.id), ''),"
	"    'target', t.target) ORDER BY t.graph, t.name), '[]')"
	" FROM %1$s.tasks t WHERE t.removed_at IS NULL AND ($1::text IS NULL OR t.graph = $1)";

static int graph_exists(struct ds_db *db, const char *graph, struct ds_error *err)
{
	const char *params[] = { graph };
	PGresult *res = query(db,
			      "SELECT 1 FROM %1$s.graphs "
			      "WHERE name = $1 AND removed_at IS NULL",
			      1, params, err);
	int found;

	if (!res)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found ? 0 : unknown_name(db, "graph", graph, graph_names_sql, err);
}

json_t *ds_pipeline_list(struct ds_db *db, const char *graph, struct ds_error *err)
{
	const char *params[] = { graph };

	if (graph && graph_exists(db, graph, err) < 0)
		return NULL;
	return query_json(db, list_sql, 1, params, err);
}

static const char show_sql[] =
	"SELECT json_build_object('task', t.name, 'graph', t.graph, 'key', t.key_kind,"
	"  'kind', CASE WHEN t.sql IS NOT NULL THEN 'sql' ELSE 'command' END,"
	"  'target', t.target, 'retries', t.retries, 'retry_delay', t.retry_delay_s,"
	"  'timeout', t.timeout_s, 'source', t.source,"
	"  'loaded_at', " DS_SQL_ISO("t.loaded_at") ", 'removed_at', " DS_SQL_ISO(
		"t.removed_at") ","
				"  'graph_paused', g.paused,"
				"  'upstream', (SELECT coalesce(json_agg(json_build_object('task', u.name,"
				"        'graph', u.graph, 'offset', d.key_offset)"
				"        ORDER BY u.name, d.key_offset DESC), '[]')"
				"      FROM %1$s.task_deps d JOIN %1$s.tasks u ON u.id = d.upstream_id"
				"      WHERE d.task_id = t.id),"
				"  'downstream', (SELECT coalesce(json_agg(json_build_object('task', w.name,"
				"        'graph', w.graph, 'offset', d.key_offset)"
				"        ORDER BY w.name, d.key_offset DESC), '[]')"
				"      FROM %1$s.task_deps d JOIN %1$s.tasks w ON w.id = d.task_id"
				"      WHERE d.upstream_id = t.id AND w.removed_at IS NULL),"
				"  'runs', (SELECT json_build_object("
				"        'queued', count(*) FILTER (WHERE state = 'queued'),"
				"        'running', count(*) FILTER (WHERE state = 'running'),"
				"        'success', count(*) FILTER (WHERE state = 'success'),"
				"        'failed', count(*) FILTER (WHERE state = 'failed'),"
				"        'held', count(*) FILTER (WHERE state = 'held'),"
				"        'blocked', count(*) FILTER (WHERE state = 'blocked'),"
				"        'cancelled', count(*) FILTER (WHERE state = 'cancelled'))"
				"      FROM %1$s.runs WHERE task_id = t.id),"
				"  'definition', t.definition)"
				" FROM %1$s.tasks t JOIN %1$s.graphs g ON g.name = t.graph WHERE t.name = $1";

json_t *ds_pipeline_show(struct ds_db *db, const char *task, struct ds_error *err)
{
	const char *params[] = { task };
	json_t *doc = query_json(db, show_sql, 1, params, err);

	if (doc && json_is_null(doc)) {
		json_decref(doc);
		unknown_name(db, "task", task, task_names_sql, err);
		return NULL;
	}
	return doc;
}

/* Pausing and resuming. */

static const char pause_sql[] =
	"UPDATE %1$s.graphs g SET paused = $2::boolean,"
	"    paused_at = CASE WHEN old.was = $2::boolean THEN g.paused_at"
	"                     WHEN $2::boolean THEN now() END,"
	"    paused_by = CASE WHEN old.was = $2::boolean THEN g.paused_by"
	"                     WHEN $2::boolean THEN current_user END"
	" FROM (SELECT name, paused AS was FROM %1$s.graphs"
	"       WHERE name = $1 AND removed_at IS NULL FOR UPDATE) old"
	" WHERE g.name = old.name"
	" RETURNING json_build_object('graph', g.name, 'paused', g.paused,"
	"   'paused_at', " DS_SQL_ISO("g.paused_at") ", 'paused_by', g.paused_by,"
						     "   'changed', g.paused <> old.was)";

static json_t *set_paused_in_transaction(struct ds_db *db, const char *graph, int paused,
					 struct ds_audit *audit, struct ds_error *err)
{
	const char *params[] = { graph, paused ? "true" : "false" };
	json_t *result = query_json(db, pause_sql, 2, params, err);

	if (result && json_is_null(result)) {
		json_decref(result);
		unknown_name(db, "graph", graph, graph_names_sql, err);
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
