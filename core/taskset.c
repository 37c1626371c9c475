/* taskset.c: loading the task graph and resolving selectors against it. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql.h"
#include "taskset.h"
#include "util.h"

static int compare_tasks(const void *a, const void *b)
{
	return strcmp(((const struct ds_task *)a)->name, ((const struct ds_task *)b)->name);
}

int ds_taskset_find(const struct ds_taskset *ts, const char *name)
{
	struct ds_task key = { .name = (char *)name };
	struct ds_task *t = bsearch(&key, ts->tasks, (size_t)ts->n, sizeof(key), compare_tasks);

	return t ? (int)(t - ts->tasks) : -1;
}

static int find_by_id(const struct ds_taskset *ts, int id)
{
	for (int i = 0; i < ts->n; i++)
		if (ts->tasks[i].id == id)
			return i;
	return -1;
}

static void add_edge(int **list, int *n, int to)
{
	*list = ds_xrealloc(*list, (size_t)(*n + 1) * sizeof(**list));
	(*list)[(*n)++] = to;
}

/* Dependencies arrive as 'd' rows of (task id, upstream id); link them both ways. */
static void link_deps(struct ds_taskset *ts, PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++) {
		int t, u;

		if (PQgetvalue(res, r, 0)[0] != 'd')
			continue;
		t = find_by_id(ts, atoi(PQgetvalue(res, r, 1)));
		u = find_by_id(ts, atoi(PQgetvalue(res, r, 2)));
		if (t < 0 || u < 0)
			continue; /* an upstream that was removed */
		add_edge(&ts->tasks[t].up, &ts->tasks[t].nup, u);
		add_edge(&ts->tasks[u].down, &ts->tasks[u].ndown, t);
	}
}

int ds_taskset_load(struct ds_db *db, struct ds_taskset *ts, struct ds_error *err)
{
	PGresult *res = ds_sql_query(db, DS_SQL_TASKSET_LOAD, 0, NULL, err);
	int rows;

	memset(ts, 0, sizeof(*ts));
	if (!res)
		return -1;
	rows = PQntuples(res);
	ts->tasks = ds_xmalloc((size_t)rows * sizeof(*ts->tasks));
	ts->graphs = ds_xmalloc((size_t)(rows + 1) * sizeof(*ts->graphs));
	for (int r = 0; r < rows; r++) {
		char what = PQgetvalue(res, r, 0)[0];

		if (what == 't') {
			struct ds_task *t = &ts->tasks[ts->n++];

			memset(t, 0, sizeof(*t));
			t->id = atoi(PQgetvalue(res, r, 1));
			t->name = ds_xstrdup(PQgetvalue(res, r, 2));
			t->graph = ds_xstrdup(PQgetvalue(res, r, 3));
			ds_key_kind_parse(PQgetvalue(res, r, 4), &t->kind);
		} else if (what == 'g') {
			ts->graphs[ts->ngraphs++] = ds_xstrdup(PQgetvalue(res, r, 2));
		}
	}
	ts->graphs[ts->ngraphs] = NULL;
	qsort(ts->tasks, (size_t)ts->n, sizeof(*ts->tasks), compare_tasks);
	link_deps(ts, res);
	PQclear(res);
	return 0;
}

void ds_taskset_release(struct ds_taskset *ts)
{
	for (int i = 0; i < ts->n; i++) {
		free(ts->tasks[i].name);
		free(ts->tasks[i].graph);
		free(ts->tasks[i].up);
		free(ts->tasks[i].down);
	}
	for (int i = 0; i < ts->ngraphs; i++)
		free(ts->graphs[i]);
	free(ts->tasks);
	free(ts->graphs);
	memset(ts, 0, sizeof(*ts));
}

/* Mark t and everything it reaches following one direction of the edges. */
static void mark_closure(const struct ds_taskset *ts, int t, int upstream, char *selected)
{
	int *stack = ds_xmalloc((size_t)ts->n * sizeof(*stack)), top = 0;
	char *seen = memset(ds_xmalloc((size_t)ts->n), 0, (size_t)ts->n);

	stack[top++] = t;
	seen[t] = 1;
	while (top) {
		const struct ds_task *task = &ts->tasks[stack[--top]];
		int n = upstream ? task->nup : task->ndown;
		const int *next = upstream ? task->up : task->down;

		selected[task - ts->tasks] = 1;
		for (int i = 0; i < n; i++)
			if (!seen[next[i]]) {
				seen[next[i]] = 1;
				stack[top++] = next[i];
			}
	}
	free(seen);
	free(stack);
}

static int unknown_name(const char *what, const char *name, const char *const *names,
			struct ds_error *err)
{
	const char *best = ds_closest(name, names);

	if (best)
		return ds_error_set(err, DS_ERR_USAGE, "unknown %s '%s' (did you mean '%s'?)", what,
				    name, best);
	return ds_error_set(err, DS_ERR_USAGE, "unknown %s '%s'", what, name);
}

static int select_graph(const struct ds_taskset *ts, const char *graph, char *selected,
			struct ds_error *err)
{
	int found = 0;

	for (int i = 0; i < ts->ngraphs; i++)
		found |= !strcmp(ts->graphs[i], graph);
	if (!found)
		return unknown_name("graph", graph, (const char *const *)ts->graphs, err);
	for (int i = 0; i < ts->n; i++)
		if (!strcmp(ts->tasks[i].graph, graph))
			selected[i] = 1;
	return 0;
}

static int select_pattern(const struct ds_taskset *ts, const char *pattern, size_t len,
			  char *selected, struct ds_error *err)
{
	int code, matched = 0;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF, &code, &offset, NULL);
	pcre2_match_data *md;

	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		ds_error_set(err, DS_ERR_USAGE, "invalid pattern '/%.*s/': %s at offset %zu",
			     (int)len, pattern, (char *)msg, (size_t)offset);
		return -1;
	}
	md = pcre2_match_data_create_from_pattern(re, NULL);
	for (int i = 0; i < ts->n; i++)
		if (pcre2_match(re, (PCRE2_SPTR)ts->tasks[i].name, PCRE2_ZERO_TERMINATED, 0, 0, md,
				NULL) >= 0) {
			selected[i] = 1;
			matched = 1;
		}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	if (!matched)
		return ds_error_set(err, DS_ERR_USAGE, "no task matches '/%.*s/'", (int)len,
				    pattern);
	return 0;
}

/* name, +name, name+ or +name+. */
static int select_name(const struct ds_taskset *ts, const char *term, size_t len, char *selected,
		       struct ds_error *err)
{
	int up = len > 0 && term[0] == '+';
	int down = len > (size_t)up && term[len - 1] == '+';
	char *name = ds_xprintf("%.*s", (int)(len - (size_t)up - (size_t)down), term + up);
	int t = ds_taskset_find(ts, name);

	if (t < 0) {
		const char **names = ds_xmalloc((size_t)(ts->n + 1) * sizeof(*names));

		for (int i = 0; i < ts->n; i++)
			names[i] = ts->tasks[i].name;
		names[ts->n] = NULL;
		if (!name[0])
			ds_error_set(err, DS_ERR_USAGE, "empty task name in selector");
		else
			unknown_name("task", name, names, err);
		free(names);
		free(name);
		return -1;
	}
	free(name);
	selected[t] = 1;
	if (up)
		mark_closure(ts, t, 1, selected);
	if (down)
		mark_closure(ts, t, 0, selected);
	return 0;
}

/* The end of the term starting at s, before one of stops: a /pattern/ may hold them. */
static size_t term_length(const char *s, const char *stops)
{
	if (s[0] == '/') {
		const char *p = s + 1;

		while (*p && *p != '/')
			p += (*p == '\\' && p[1]) ? 2 : 1;
		if (*p == '/')
			return (size_t)(p - s) + 1 + strcspn(p + 1, stops);
	}
	return strcspn(s, stops);
}

/* Mark the tasks one term names: a pattern, a graph or a name with its + marks. */
static int select_term(const struct ds_taskset *ts, const char *s, size_t len, char *selected,
		       struct ds_error *err)
{
	int rc;

	if (s[0] == '/') {
		if (len < 2 || s[len - 1] != '/')
			return ds_error_set(err, DS_ERR_USAGE, "pattern '%.*s' has no closing '/'",
					    (int)len, s);
		return select_pattern(ts, s + 1, len - 2, selected, err);
	}
	if (!strncmp(s, "graph:", 6)) {
		char *graph = ds_xprintf("%.*s", (int)(len - 6), s + 6);

		rc = select_graph(ts, graph, selected, err);
		free(graph);
		return rc;
	}
	return select_name(ts, s, len, selected, err);
}

/*
 * Mark the tasks every term of one part of a union names (a&b&c), the len bytes at s:
 * each term is selected alone, and a task stays only if all of them name it.
 */
static int select_intersection(const struct ds_taskset *ts, const char *selector, const char *s,
			       size_t len, char *selected, struct ds_error *err)
{
	char *all = memset(ds_xmalloc((size_t)ts->n + 1), 1, (size_t)ts->n + 1);
	char *one = ds_xmalloc((size_t)ts->n + 1);
	const char *end = s + len;
	int rc = 0;

	for (;;) {
		size_t tlen = term_length(s, ",&");

		memset(one, 0, (size_t)ts->n + 1);
		if (tlen == 0)
			rc = ds_error_set(err, DS_ERR_USAGE, "empty term in selector '%s'",
					  selector);
		else
			rc = select_term(ts, s, tlen, one, err);
		if (rc < 0)
			break;
		for (int i = 0; i < ts->n; i++)
			all[i] &= one[i];
		s += tlen;
		if (s >= end)
			break;
		s++; /* the '&' */
	}
	for (int i = 0; rc == 0 && i < ts->n; i++)
		selected[i] |= all[i];
	free(one);
	free(all);
	return rc;
}

/* Mark the tasks the selector names: a union (,) of intersections (&) of terms. */
static int select_union(const struct ds_taskset *ts, const char *selector, char *selected,
			struct ds_error *err)
{
	const char *s = selector;

	if (!*s)
		return ds_error_set(err, DS_ERR_USAGE, "empty selector");
	for (;;) {
		size_t len = 0;

		/* One part of the union: its terms up to the next comma outside a pattern. */
		while (s[len] && s[len] != ',') {
			len += term_length(s + len, ",&");
			if (s[len] == '&')
				len++;
		}
		if (select_intersection(ts, selector, s, len, selected, err) < 0)
			return -1;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

static int count_selected(const struct ds_taskset *ts, const char *selected)
{
	int n = 0;

	for (int i = 0; i < ts->n; i++)
		n += selected[i] != 0;
	return n;
}

int ds_select_excluded(const struct ds_taskset *ts, const char *exclude, char *excluded,
		       struct ds_error *err)
{
	char *why;

	if (select_union(ts, exclude, excluded, err) == 0)
		return 0;
	why = ds_xstrdup(err->message);
	ds_error_set(err, DS_ERR_USAGE, "--exclude '%s': %s", exclude, why);
	free(why);
	return -1;
}

/* Unmark the tasks exclude names. */
static int select_excluded(const struct ds_taskset *ts, const char *exclude, char *selected,
			   struct ds_error *err)
{
	char *excluded = memset(ds_xmalloc((size_t)ts->n + 1), 0, (size_t)ts->n + 1);
	int rc = ds_select_excluded(ts, exclude, excluded, err);

	for (int i = 0; rc == 0 && i < ts->n; i++)
		selected[i] &= !excluded[i];
	free(excluded);
	return rc;
}

int ds_select(const struct ds_taskset *ts, const char *selector, const char *exclude,
	      char *selected, struct ds_error *err)
{
	if (!selector)
		memset(selected, 1, (size_t)ts->n);
	else if (select_union(ts, selector, selected, err) < 0)
		return -1;
	if (exclude && select_excluded(ts, exclude, selected, err) < 0)
		return -1;
	if (count_selected(ts, selected))
		return 0;
	if (exclude && !selector)
		return ds_error_set(err, DS_ERR_USAGE,
				    "no task is left once --exclude '%s' is taken out", exclude);
	if (exclude)
		return ds_error_set(err, DS_ERR_USAGE,
				    "no task of '%s' is left once --exclude '%s' is taken out",
				    selector, exclude);
	return ds_error_set(err, DS_ERR_USAGE, "no task is named by every part of '%s'",
			    selector ? selector : "");
}

int ds_taskset_task_id(struct ds_db *db, const char *name, enum ds_key_kind *kind,
		       struct ds_error *err)
{
	struct ds_taskset ts;
	int i, id = -1;

	if (ds_taskset_load(db, &ts, err) < 0)
		return -1;
	i = ds_taskset_find(&ts, name);
	if (i >= 0) {
		id = ts.tasks[i].id;
		if (kind)
			*kind = ts.tasks[i].kind;
	} else {
		char *selected = calloc((size_t)ts.n + 1, 1);

		/* The selector's own message: "unknown task 'x' (did you mean 'y'?)". */
		if (strpbrk(name, ",&+:/") || ds_select(&ts, name, NULL, selected, err) == 0)
			ds_error_set(err, DS_ERR_USAGE, "'%s' is not the name of a task", name);
		free(selected);
	}
	ds_taskset_release(&ts);
	return id;
}

/*
 * Whether word names one key of kind: '' for none, a date or an hour, also as
 * yesterday or today; the key into out (DS_KEY_SIZE bytes).
 */
static int key_of_kind(enum ds_key_kind kind, const char *word, char *out)
{
	struct ds_range r;
	struct ds_error e = { 0 };
	int ok;

	out[0] = '\0';
	if (kind == DS_KEY_NONE)
		return word[0] == '\0';
	ok = ds_range_parse_for(word, kind, ds_range_now(), &r, &e) == 0 && r.kind == kind &&
	     r.count == 1;
	ds_error_clear(&e);
	if (ok)
		memcpy(out, r.first, DS_KEY_SIZE);
	return ok;
}

static const char *kind_keys(enum ds_key_kind kind)
{
	return kind == DS_KEY_DAILY    ? "dates (2024-01-05)"
	       : kind == DS_KEY_HOURLY ? "hours (2024-01-05T07)"
				       : "the empty key ('')";
}

int ds_taskset_key(struct ds_db *db, const char *task, const char *word, char *key,
		   struct ds_error *err)
{
	struct ds_taskset ts;
	enum ds_key_kind kind;
	int i, id;

	if (ds_taskset_load(db, &ts, err) < 0)
		return -1;
	i = ds_taskset_find(&ts, task);
	if (i < 0) {
		ds_taskset_release(&ts);
		/* For its message: "unknown task 'x' (did you mean 'y'?)". */
		return ds_taskset_task_id(db, task, NULL, err);
	}
	kind = ts.tasks[i].kind;
	id = ts.tasks[i].id;
	ds_taskset_release(&ts);
	if (!key_of_kind(kind, word, key)) {
		ds_error_set(err, DS_ERR_FAILED, "'%s' is not a key of task %s, whose keys are %s",
			     word, task, kind_keys(kind));
		return -1;
	}
	return id;
}
