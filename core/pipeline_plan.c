/*
 * pipeline_plan.c: the checks that need every file at once and what the state store
 * holds (duplicate names, undeclared graphs, references, key kinds, cycles, removals
 * that would break a remaining task), and the plan of what a load changes.
 *
 * The graphs the files declare are owned by them: a stored task of such a graph that
 * the files do not define is removed. Tasks of other graphs stay as they are and may be
 * upstreams of the files' tasks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

/* What a load does to a stored task. */
enum fate {
	FATE_KEEP,    /* of a graph the files do not declare: stays as it is */
	FATE_DEFINED, /* the files define it */
	FATE_REMOVED, /* of a graph the files declare, which no longer has it */
	FATE_GONE,    /* removed before, and not defined again */
};

/* Names to positions, sorted by name then position, for binary search. */
struct named {
	const char *name;
	int pos;
};

struct lookup {
	struct named *v;
	int n;
};

static int compare_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static const char *task_name_at(const struct ds_pipeline *p, int i)
{
	return p->tasks[i].name;
}

static const char *graph_name_at(const struct ds_pipeline *p, int i)
{
	return p->graphs[i].name;
}

static const char *conn_name_at(const struct ds_pipeline *p, int i)
{
	return p->conns[i].name;
}

/* A lookup over n names of p; release with free(l->v). */
static void lookup_build(struct lookup *l, const struct ds_pipeline *p, int n,
			 const char *(*name_at)(const struct ds_pipeline *, int))
{
	l->v = ds_xmalloc((size_t)n * sizeof(*l->v));
	l->n = n;
	for (int i = 0; i < n; i++)
		l->v[i] = (struct named){ name_at(p, i), i };
	qsort(l->v, (size_t)n, sizeof(*l->v), compare_named);
}

/* The first position of name, or -1. */
static int lookup_find(const struct lookup *l, const char *name)
{
	int lo = 0, hi = l->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (strcmp(l->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && !strcmp(l->v[lo].name, name) ? l->v[lo].pos : -1;
}

/* A task in the graph of same-key dependencies, where cycles are looked for. */
struct node {
	const struct ds_task_def *task;
	int from_files;
	int *up; /* the nodes it depends on for the same key */
	int nup;
	int state;    /* while looking for cycles: 0 new, 1 on the path, 2 done */
	int in_cycle; /* part of a cycle already reported */
};

struct planner {
	struct ds_pipeline *files;
	const struct ds_pipeline *stored;
	struct ds_load_plan *plan;
	struct lookup file_tasks, file_graphs, stored_tasks, stored_graphs;
	struct lookup file_conns, stored_conns;
	int *conn_removed;	     /* one per stored connection: the files remove it */
	enum fate *fate;	     /* one per stored task */
	const char **graph_names;    /* the files' graphs, NULL-terminated, for suggestions */
	const char **upstream_names; /* what a dependency may name, for suggestions */
	struct node *nodes;	     /* the files' tasks, then the stored tasks kept */
	int nnodes;
	int *node_of_stored; /* one per stored task: its node, or -1 */
	int *path;	     /* the path walked while looking for cycles */
	int npath;
};

static void task_problem(struct planner *pl, const struct ds_task_def *t, const char *field,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A problem at "tasks[3] (orders)" or at one of its fields. */
static void task_problem(struct planner *pl, const struct ds_task_def *t, const char *field,
			 const char *fmt, ...)
{
	char *at = ds_xprintf(DS_TASK_PATH "%s%s", t->index, t->name, field[0] ? "." : "", field);
	va_list ap;

	va_start(ap, fmt);
	ds_pipeline_vproblem(pl->files, t->file, at, fmt, ap);
	va_end(ap);
	free(at);
}

static void graph_problem(struct planner *pl, const struct ds_graph_def *g, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A problem at "graphs.core". */
static void graph_problem(struct planner *pl, const struct ds_graph_def *g, const char *fmt, ...)
{
	char *at = ds_xprintf("graphs.%s", g->name);
	va_list ap;

	va_start(ap, fmt);
	ds_pipeline_vproblem(pl->files, g->file, at, fmt, ap);
	va_end(ap);
	free(at);
}

/* The graphs and tasks defined more than once, each reported where it comes again. */
static void check_duplicates(struct planner *pl)
{
	const struct ds_pipeline *f = pl->files;

	for (int i = 1; i < pl->file_graphs.n; i++) {
		const struct named *b = &pl->file_graphs.v[i];
		int first = lookup_find(&pl->file_graphs, b->name);

		if (first != b->pos)
			graph_problem(pl, &f->graphs[b->pos],
				      "graph '%s' is already declared in %s", b->name,
				      f->graphs[first].file);
	}
	for (int i = 1; i < pl->file_tasks.n; i++) {
		const struct named *b = &pl->file_tasks.v[i];
		int first = lookup_find(&pl->file_tasks, b->name);

		if (first != b->pos)
			task_problem(pl, &f->tasks[b->pos], "",
				     "task '%s' is already defined in %s at tasks[%d]", b->name,
				     f->tasks[first].file, f->tasks[first].index);
	}
}

static int declared(const struct planner *pl, const char *graph)
{
	return graph && lookup_find(&pl->file_graphs, graph) >= 0;
}

/* Decide what becomes of each stored task. */
static void decide_fates(struct planner *pl)
{
	const struct ds_pipeline *s = pl->stored;

	pl->fate = ds_xmalloc((size_t)s->ntasks * sizeof(*pl->fate));
	for (int i = 0; i < s->ntasks; i++) {
		const struct ds_task_def *t = &s->tasks[i];

		if (lookup_find(&pl->file_tasks, t->name) >= 0)
			pl->fate[i] = FATE_DEFINED;
		else if (t->removed)
			pl->fate[i] = FATE_GONE;
		else if (declared(pl, t->graph))
			pl->fate[i] = FATE_REMOVED;
		else
			pl->fate[i] = FATE_KEEP;
	}
}

/*
 * A task's graph must be declared in the files, and a stored task of some other graph
 * is not taken over by a file that happens to use its name: that other graph's files
 * would take it back on their next load.
 */
static void check_graph_of(struct planner *pl, const struct ds_task_def *t)
{
	int s = lookup_find(&pl->stored_tasks, t->name);
	const struct ds_task_def *old = s >= 0 ? &pl->stored->tasks[s] : NULL;
	const char *best;

	if (t->graph && !declared(pl, t->graph)) {
		best = ds_closest(t->graph, pl->graph_names);
		task_problem(pl, t, "graph", "graph '%s' is not declared in the files loaded%s%s%s",
			     t->graph, best ? " (did you mean '" : "", best ? best : "",
			     best ? "'?)" : "");
	}
	if (old && !old->removed && !declared(pl, old->graph))
		task_problem(pl, t, "",
			     "task '%s' belongs to graph '%s', which the files loaded do not "
			     "declare; load that graph's files too to move it",
			     t->name, old->graph);
}

/* The node a dependency names, or -1; a file's task shadows the stored one. */
static int node_named(const struct planner *pl, const char *name)
{
	int f = lookup_find(&pl->file_tasks, name), s;

	if (f >= 0)
		return f;
	s = lookup_find(&pl->stored_tasks, name);
	return s >= 0 ? pl->node_of_stored[s] : -1;
}

static void unknown_upstream(struct planner *pl, const struct ds_task_def *t, const char *field,
			     const char *name)
{
	int s = lookup_find(&pl->stored_tasks, name);
	const char *best;

	if (s >= 0 && pl->fate[s] == FATE_REMOVED) {
		task_problem(pl, t, field,
			     "task '%s' would be removed: graph '%s' is declared "
			     "without it",
			     name, pl->stored->tasks[s].graph);
		return;
	}
	best = ds_closest(name, pl->upstream_names);
	task_problem(pl, t, field, "unknown task '%s'%s%s%s", name, best ? " (did you mean '" : "",
		     best ? best : "", best ? "'?)" : "");
}

/*
 * Runs are matched key for key (shifted by the offset), so a dependency joins tasks
 * of one key kind; and an offset means nothing without a key. A key the file got
 * wrong has been reported already.
 */
static void check_key_kinds(struct planner *pl, const struct ds_task_def *t, const char *field,
			    const struct ds_task_dep *d, const struct ds_task_def *up)
{
	if (t->key_unknown || up->key_unknown)
		return;
	if (up->key != t->key)
		task_problem(pl, t, field,
			     "depends on '%s', whose key is %s, but this task's "
			     "key is %s: a dependency needs the same key kind",
			     d->task, ds_key_kind_name(up->key), ds_key_kind_name(t->key));
	else if (d->offset && t->key == DS_KEY_NONE)
		task_problem(pl, t, field, "an offset needs a daily or hourly key");
}

/* A file's task whose key kind changes under a stored task that depends on it. */
static void check_kept_downstream(struct planner *pl, const struct ds_task_def *t,
				  const struct ds_task_def *up)
{
	if (up->key != t->key && !up->key_unknown)
		task_problem(pl, up, "key",
			     "task '%s' of graph '%s' depends on this task and its "
			     "key is %s: a dependency needs the same key kind",
			     t->name, t->graph, ds_key_kind_name(t->key));
}

/* Resolve a node's dependencies and report what does not resolve or does not fit. */
static void resolve(struct planner *pl, struct node *n)
{
	const struct ds_task_def *t = n->task;

	n->up = ds_xmalloc((size_t)t->ndeps * sizeof(*n->up));
	for (int i = 0; i < t->ndeps; i++) {
		const struct ds_task_dep *d = &t->deps[i];
		char *field = ds_xprintf("depends_on[%d]", d->index);
		int up = node_named(pl, d->task);

		if (up < 0 && n->from_files)
			unknown_upstream(pl, t, field, d->task);
		else if (up >= 0 && n->from_files)
			check_key_kinds(pl, t, field, d, pl->nodes[up].task);
		else if (up >= 0 && pl->nodes[up].from_files)
			check_kept_downstream(pl, t, pl->nodes[up].task);
		if (up >= 0 && d->offset == 0)
			n->up[n->nup++] = up;
		free(field);
	}
}

/* Removing a task that a remaining task of another graph depends on would break it. */
static void check_removals(struct planner *pl)
{
	const struct ds_pipeline *s = pl->stored;

	for (int i = 0; i < s->ntasks; i++) {
		if (pl->fate[i] != FATE_KEEP)
			continue;
		for (int k = 0; k < s->tasks[i].ndeps; k++) {
			int up = lookup_find(&pl->stored_tasks, s->tasks[i].deps[k].task);
			const struct ds_graph_def *g;

			if (up < 0 || pl->fate[up] != FATE_REMOVED)
				continue;
			g = &pl->files->graphs[lookup_find(&pl->file_graphs, s->tasks[up].graph)];
			graph_problem(pl, g,
				      "removes task '%s', which task '%s' of graph '%s' "
				      "depends on",
				      s->tasks[up].name, s->tasks[i].name, s->tasks[i].graph);
		}
	}
}

/* n zeroed elements of size bytes (at least one, so never NULL). Caller frees. */
static void *zeroed(int n, size_t size)
{
	void *p = ds_xmalloc(((size_t)n + 1) * size);

	memset(p, 0, ((size_t)n + 1) * size);
	return p;
}

/* The nodes: every task of the files, then the stored tasks that stay as they are. */
static void build_nodes(struct planner *pl)
{
	const struct ds_pipeline *f = pl->files, *s = pl->stored;

	pl->nodes = zeroed(f->ntasks + s->ntasks, sizeof(*pl->nodes));
	pl->node_of_stored = zeroed(s->ntasks, sizeof(*pl->node_of_stored));
	for (int i = 0; i < f->ntasks; i++)
		pl->nodes[pl->nnodes++] = (struct node){ .task = &f->tasks[i], .from_files = 1 };
	for (int i = 0; i < s->ntasks; i++) {
		pl->node_of_stored[i] = pl->fate[i] == FATE_KEEP ? pl->nnodes : -1;
		if (pl->fate[i] == FATE_KEEP)
			pl->nodes[pl->nnodes++] = (struct node){ .task = &s->tasks[i] };
	}
	for (int i = 0; i < pl->nnodes; i++)
		resolve(pl, &pl->nodes[i]);
}

/*
 * Report the cycle that closes at path[from..]: each task there depends on the next
 * and the last on the first. It is written the way data flows, upstream first, from
 * a task of the files (a cycle of stored tasks alone is none of this load's doing).
 */
static void report_cycle(struct planner *pl, int from)
{
	struct ds_buf b = DS_BUF_INIT;
	int len = pl->npath - from, start = -1;
	char *text;

	for (int i = from; i < pl->npath; i++) {
		if (pl->nodes[pl->path[i]].in_cycle)
			return;
		if (start < 0 && pl->nodes[pl->path[i]].from_files)
			start = i - from;
	}
	if (start < 0)
		return;
	/* Downstream to upstream along the path, so walk it backwards. */
	for (int k = 0; k <= len; k++) {
		int node = pl->path[from + ((start - k) % len + len) % len];

		ds_buf_addf(&b, "%s%s", k ? " -> " : "", pl->nodes[node].task->name);
		pl->nodes[node].in_cycle = 1;
	}
	text = ds_buf_take(&b);
	task_problem(pl, pl->nodes[pl->path[from + start]].task, "depends_on",
		     "dependency cycle: %s", text);
	free(text);
}

static void find_cycles_from(struct planner *pl, int u)
{
	struct node *n = &pl->nodes[u];

	n->state = 1;
	pl->path[pl->npath++] = u;
	for (int i = 0; i < n->nup; i++) {
		int v = n->up[i];

		if (pl->nodes[v].state == 0) {
			find_cycles_from(pl, v);
		} else if (pl->nodes[v].state == 1) {
			int from = pl->npath - 1;

			while (pl->path[from] != v)
				from--;
			report_cycle(pl, from);
		}
	}
	pl->npath--;
	n->state = 2;
}

static void find_cycles(struct planner *pl)
{
	pl->path = ds_xmalloc((size_t)pl->nnodes * sizeof(*pl->path) + 1);
	for (int i = 0; i < pl->nnodes; i++)
		if (pl->nodes[i].state == 0)
			find_cycles_from(pl, i);
}

static void conn_problem(struct planner *pl, const struct ds_conn_def *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A problem at "connections.warehouse". */
static void conn_problem(struct planner *pl, const struct ds_conn_def *c, const char *fmt, ...)
{
	char *at = ds_xprintf("connections.%s", c->name);
	va_list ap;

	va_start(ap, fmt);
	ds_pipeline_vproblem(pl->files, c->file, at, fmt, ap);
	va_end(ap);
	free(at);
}

/* Whether one of the files loaded declares anything, so owns what it declared before. */
static int file_loaded(const struct ds_pipeline *f, const char *file)
{
	for (int i = 0; i < f->nconns; i++)
		if (file && !strcmp(f->conns[i].file, file))
			return 1;
	for (int i = 0; i < f->ngraphs; i++)
		if (file && !strcmp(f->graphs[i].file, file))
			return 1;
	for (int i = 0; i < f->ntasks; i++)
		if (file && !strcmp(f->tasks[i].file, file))
			return 1;
	return 0;
}

/*
 * Connections are declared once, in any file; a stored one that the file declaring it
 * no longer declares is removed, as long as no task that stays runs on it.
 */
static void plan_connections(struct planner *pl)
{
	const struct ds_pipeline *f = pl->files, *s = pl->stored;

	for (int i = 1; i < pl->file_conns.n; i++) {
		const struct named *b = &pl->file_conns.v[i];
		int first = lookup_find(&pl->file_conns, b->name);

		if (first != b->pos)
			conn_problem(pl, &f->conns[b->pos],
				     "connection '%s' is already declared in %s", b->name,
				     f->conns[first].file);
	}
	pl->conn_removed = zeroed(s->nconns, sizeof(*pl->conn_removed));
	for (int i = 0; i < s->nconns; i++)
		pl->conn_removed[i] = lookup_find(&pl->file_conns, s->conns[i].name) < 0 &&
				      file_loaded(f, s->conns[i].file);
}

/* Whether name is a connection there will be after the load. */
static int conn_known(const struct planner *pl, const char *name)
{
	int s;

	if (lookup_find(&pl->file_conns, name) >= 0)
		return 1;
	s = lookup_find(&pl->stored_conns, name);
	return s >= 0 && !pl->conn_removed[s];
}

/* "unknown connection 'x' (did you mean 'y'?)" at field of a task or a graph. */
static void unknown_conn(struct planner *pl, const char *file, const char *at, const char *name)
{
	const char **names =
		ds_xmalloc((size_t)(pl->files->nconns + pl->stored->nconns + 1) * sizeof(*names));
	const char *best;
	int n = 0;

	for (int i = 0; i < pl->files->nconns; i++)
		names[n++] = pl->files->conns[i].name;
	for (int i = 0; i < pl->stored->nconns; i++)
		if (!pl->conn_removed[i])
			names[n++] = pl->stored->conns[i].name;
	names[n] = NULL;
	best = ds_closest(name, names);
	ds_pipeline_problem(pl->files, file, at,
			    "unknown connection '%s'%s%s%s: declare it in \"connections\"", name,
			    best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
	free(names);
}

/*
 * Each SQL task of the files runs on its own connection, or else its graph's: the
 * definition keeps the one it runs on, so that a change of either shows as a change
 * of the task. A name must be a connection the load leaves.
 */
static void resolve_connections(struct planner *pl)
{
	struct ds_pipeline *f = pl->files;

	for (int i = 0; i < f->ngraphs; i++) {
		const struct ds_graph_def *g = &f->graphs[i];
		char *at = ds_xprintf("graphs.%s.connection", g->name);

		if (g->connection && !conn_known(pl, g->connection))
			unknown_conn(pl, g->file, at, g->connection);
		free(at);
	}
	for (int i = 0; i < f->ntasks; i++) {
		struct ds_task_def *t = &f->tasks[i];
		json_t *def = t->definition;
		const char *own = json_string_value(json_object_get(def, "connection"));
		int g = t->graph ? lookup_find(&pl->file_graphs, t->graph) : -1;

		if (own && !conn_known(pl, own)) {
			char *at = ds_xprintf(DS_TASK_PATH ".connection", t->index, t->name);

			unknown_conn(pl, t->file, at, own);
			free(at);
		} else if (!own && g >= 0 && f->graphs[g].connection &&
			   json_is_string(json_object_get(def, "sql"))) {
			json_object_set_new(def, "connection",
					    json_string(f->graphs[g].connection));
		}
	}
}

/* A connection removed under a task that stays. */
static void check_conn_removals(struct planner *pl)
{
	const struct ds_pipeline *s = pl->stored;

	for (int i = 0; i < s->ntasks; i++) {
		const char *name =
			json_string_value(json_object_get(s->tasks[i].definition, "connection"));
		int c = name ? lookup_find(&pl->stored_conns, name) : -1;

		if (pl->fate[i] == FATE_KEEP && c >= 0 && pl->conn_removed[c])
			ds_pipeline_problem(pl->files, s->conns[c].file, "connections",
					    "removes connection '%s', which task '%s' of graph "
					    "'%s' runs on",
					    name, s->tasks[i].name, s->tasks[i].graph);
	}
}

/* Names for "did you mean": the files' graphs, and what a dependency may name. */
static void gather_names(struct planner *pl)
{
	const struct ds_pipeline *f = pl->files, *s = pl->stored;
	int n = 0;

	pl->graph_names = ds_xmalloc((size_t)(f->ngraphs + 1) * sizeof(*pl->graph_names));
	for (int i = 0; i < f->ngraphs; i++)
		pl->graph_names[i] = f->graphs[i].name;
	pl->graph_names[f->ngraphs] = NULL;
	pl->upstream_names =
		ds_xmalloc((size_t)(f->ntasks + s->ntasks + 1) * sizeof(*pl->upstream_names));
	for (int i = 0; i < f->ntasks; i++)
		pl->upstream_names[n++] = f->tasks[i].name;
	for (int i = 0; i < s->ntasks; i++)
		if (pl->fate[i] == FATE_KEEP)
			pl->upstream_names[n++] = s->tasks[i].name;
	pl->upstream_names[n] = NULL;
}

static enum ds_change graph_change(const struct ds_graph_def *g, const struct ds_graph_def *old)
{
	if (!old)
		return DS_ADDED;
	if (old->removed)
		return DS_REVIVED;
	if (g->max_active != old->max_active || (g->paused >= 0 && g->paused != old->paused) ||
	    !json_equal(g->breaker, old->breaker) || !json_equal(g->schedule, old->schedule))
		return DS_CHANGED;
	return DS_UNCHANGED;
}

static enum ds_change task_change(const struct ds_task_def *t, const struct ds_task_def *old)
{
	if (!old)
		return DS_ADDED;
	if (old->removed)
		return DS_REVIVED;
	return json_equal(t->definition, old->definition) ? DS_UNCHANGED : DS_CHANGED;
}

static int same_file(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* What changes, graph by graph and task by task, and which rows must be written. */
static void diff(struct planner *pl)
{
	const struct ds_pipeline *f = pl->files, *s = pl->stored;
	struct ds_load_plan *plan = pl->plan;

	for (int i = 0; i < f->ngraphs; i++) {
		int old = lookup_find(&pl->stored_graphs, f->graphs[i].name);
		const struct ds_graph_def *o = old >= 0 ? &s->graphs[old] : NULL;

		plan->graph_change[i] = graph_change(&f->graphs[i], o);
		plan->stored_graph[i] = old;
		plan->graphs[plan->graph_change[i]]++;
	}
	for (int i = 0; i < f->ntasks; i++) {
		int old = lookup_find(&pl->stored_tasks, f->tasks[i].name);
		const struct ds_task_def *o = old >= 0 ? &s->tasks[old] : NULL;

		plan->task_change[i] = task_change(&f->tasks[i], o);
		plan->stored_task[i] = old;
		plan->tasks[plan->task_change[i]]++;
		/* A task moved to another file is not a change, but its source is kept right. */
		plan->write_task[i] = plan->task_change[i] != DS_UNCHANGED;
		if (o && !same_file(f->tasks[i].file, o->file))
			plan->write_task[i] = 1;
	}
	for (int i = 0; i < s->ntasks; i++)
		if (pl->fate[i] == FATE_REMOVED) {
			plan->removed[plan->nremoved++] = i;
			plan->tasks[DS_REMOVED]++;
		}
	for (int i = 0; i < f->nconns; i++) {
		int old = lookup_find(&pl->stored_conns, f->conns[i].name);

		plan->conn_change[i] = old < 0 ? DS_ADDED
				       : strcmp(f->conns[i].conninfo, s->conns[old].conninfo)
					       ? DS_CHANGED
					       : DS_UNCHANGED;
		plan->stored_conn[i] = old;
		plan->conns[plan->conn_change[i]]++;
	}
	for (int i = 0; i < s->nconns; i++)
		if (pl->conn_removed[i]) {
			plan->removed_conns[plan->nremoved_conns++] = i;
			plan->conns[DS_REMOVED]++;
		}
}

static void planner_release(struct planner *pl)
{
	for (int i = 0; i < pl->nnodes; i++)
		free(pl->nodes[i].up);
	free(pl->nodes);
	free(pl->node_of_stored);
	free(pl->path);
	free(pl->fate);
	free(pl->graph_names);
	free(pl->upstream_names);
	free(pl->file_tasks.v);
	free(pl->file_graphs.v);
	free(pl->stored_tasks.v);
	free(pl->stored_graphs.v);
	free(pl->file_conns.v);
	free(pl->stored_conns.v);
	free(pl->conn_removed);
}

int ds_pipeline_plan(struct ds_pipeline *files, const struct ds_pipeline *stored,
		     struct ds_load_plan *plan)
{
	struct planner pl = { .files = files, .stored = stored, .plan = plan };

	memset(plan, 0, sizeof(*plan));
	plan->graph_change = zeroed(files->ngraphs, sizeof(*plan->graph_change));
	plan->task_change = zeroed(files->ntasks, sizeof(*plan->task_change));
	plan->write_task = zeroed(files->ntasks, sizeof(*plan->write_task));
	plan->stored_task = zeroed(files->ntasks, sizeof(*plan->stored_task));
	plan->stored_graph = zeroed(files->ngraphs, sizeof(*plan->stored_graph));
	plan->removed = zeroed(stored->ntasks, sizeof(*plan->removed));
	plan->conn_change = zeroed(files->nconns, sizeof(*plan->conn_change));
	plan->stored_conn = zeroed(files->nconns, sizeof(*plan->stored_conn));
	plan->removed_conns = zeroed(stored->nconns, sizeof(*plan->removed_conns));
	lookup_build(&pl.file_tasks, files, files->ntasks, task_name_at);
	lookup_build(&pl.file_graphs, files, files->ngraphs, graph_name_at);
	lookup_build(&pl.stored_tasks, stored, stored->ntasks, task_name_at);
	lookup_build(&pl.stored_graphs, stored, stored->ngraphs, graph_name_at);
	lookup_build(&pl.file_conns, files, files->nconns, conn_name_at);
	lookup_build(&pl.stored_conns, stored, stored->nconns, conn_name_at);
	decide_fates(&pl);
	plan_connections(&pl);
	resolve_connections(&pl);
	gather_names(&pl);
	check_duplicates(&pl);
	for (int i = 0; i < files->ntasks; i++)
		check_graph_of(&pl, &files->tasks[i]);
	build_nodes(&pl);
	check_removals(&pl);
	check_conn_removals(&pl);
	find_cycles(&pl);
	diff(&pl);
	planner_release(&pl);
	return files->nerrors ? -1 : 0;
}

void ds_load_plan_release(struct ds_load_plan *plan)
{
	free(plan->graph_change);
	free(plan->task_change);
	free(plan->write_task);
	free(plan->stored_task);
	free(plan->stored_graph);
	free(plan->removed);
	free(plan->conn_change);
	free(plan->stored_conn);
	free(plan->removed_conns);
	memset(plan, 0, sizeof(*plan));
}
