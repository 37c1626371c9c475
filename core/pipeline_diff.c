/*
 * pipeline_diff.c: what a load changes in a task or a graph, as a unified diff of the
 * stored definition against the files' one.
 *
 * Each side is first written as the same stable text: the normalized definition as
 * indented JSON, its fields in a fixed order (nested objects by key), and the task's SQL
 * or command after it as a block of its own lines, so that an edit to the SQL shows as
 * the SQL lines that changed rather than as one long JSON string. The stored side comes
 * from jsonb, whose keys are in another order than the file's: the fixed order is what
 * makes the two comparable line by line.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "textdiff.h"

/* The order a task's fields are written in; fields not listed follow, by name. */
static const char *const task_order[] = {
	"name",	   "graph",  "key",	      "target",	 "depends_on", "retries",  "retry_delay",
	"timeout", "checks", "error_classes", "breaker", "sla",	       "schedule", NULL,
};

/* Written as blocks after the JSON, not as fields in it: SQL reads best as its lines. */
static const char *const task_blocks[] = { "sql", "command", "complete_when", NULL };

static const char *const graph_order[] = { "name",    "max_active", "paused",
					   "breaker", "schedule",   NULL };

static int listed(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (!strcmp(*list, key))
			return 1;
	return 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One field, `  "key": value`, the value's own lines indented under it. */
static void add_field(struct ds_buf *b, const char *key, json_t *value, int *nfields)
{
	json_t *name = json_string(key);
	char *k = json_dumps(name, JSON_ENCODE_ANY);
	char *v = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	ds_buf_addf(b, "%s  %s: ", (*nfields)++ ? ",\n" : "", k);
	for (const char *p = v; *p; p++) {
		ds_buf_add(b, p, 1);
		if (*p == '\n')
			ds_buf_addf(b, "  ");
	}
	free(v);
	free(k);
	json_decref(name);
}

/* A block: its title, then each line of text indented (an empty one stays empty). */
static void add_block(struct ds_buf *b, const char *title, const char *text)
{
	ds_buf_addf(b, "%s:\n", title);
	/* Every line, the empty one after a last '\n' too: a change to that is a change. */
	for (;;) {
		size_t n = strcspn(text, "\n");

		ds_buf_addf(b, "%s%.*s\n", n ? "    " : "", (int)n, text);
		if (!text[n])
			break;
		text += n + 1;
	}
}

/* obj as text: the fields in order, then the blocks. Caller frees. */
static char *definition_text(json_t *obj, const char *const *order, const char *const *blocks)
{
	struct ds_buf b = DS_BUF_INIT;
	const char **rest = ds_xmalloc((json_object_size(obj) + 1) * sizeof(*rest)), *key;
	size_t nrest = 0;
	int nfields = 0;
	json_t *v;

	ds_buf_addf(&b, "{\n");
	for (const char *const *k = order; *k; k++)
		if (!listed(blocks, *k) && (v = json_object_get(obj, *k)))
			add_field(&b, *k, v, &nfields);
	json_object_foreach(obj, key, v)
	{
		if (!listed(order, key) && !listed(blocks, key))
			rest[nrest++] = key;
	}
	qsort(rest, nrest, sizeof(*rest), compare_strings);
	for (size_t i = 0; i < nrest; i++)
		add_field(&b, rest[i], json_object_get(obj, rest[i]), &nfields);
	ds_buf_addf(&b, "%s}\n", nfields ? "\n" : "");
	for (const char *const *k = blocks; *k; k++)
		if (json_is_string(v = json_object_get(obj, *k)))
			add_block(&b, *k, json_string_value(v));
	free(rest);
	return ds_buf_take(&b);
}

char *ds_task_definition_text(json_t *definition)
{
	return definition_text(definition, task_order, task_blocks);
}

char *ds_graph_definition_text(const struct ds_graph_def *g, int paused)
{
	static const char *const none[] = { NULL };
	json_t *obj =
		json_pack("{s:s, s:i, s:b, s:O, s:O}", "name", g->name, "max_active", g->max_active,
			  "paused", paused, "breaker", g->breaker, "schedule", g->schedule);
	char *text = definition_text(obj, graph_order, none);

	json_decref(obj);
	return text;
}

/* The unified diff of two texts, "--- stored" against "+++ FILE"; consumes both. */
static char *diff_of(char *stored, char *loaded, const char *file)
{
	char *to = ds_xstrdup(file ? file : "(files)");
	char *diff = ds_diff_unified(stored, loaded, "stored", to, 3);

	free(to);
	free(stored);
	free(loaded);
	return diff;
}

char *ds_task_def_diff(const struct ds_task_def *stored, const struct ds_task_def *t)
{
	return diff_of(ds_task_definition_text(stored->definition),
		       ds_task_definition_text(t->definition), t->file);
}

char *ds_graph_def_diff(const struct ds_graph_def *stored, const struct ds_graph_def *g)
{
	/* A file that does not say whether the graph is paused leaves it as it is. */
	int paused = g->paused >= 0 ? g->paused : stored->paused;

	return diff_of(ds_graph_definition_text(stored, stored->paused),
		       ds_graph_definition_text(g, paused), g->file);
}

char *ds_conn_def_diff(const struct ds_conn_def *stored, const struct ds_conn_def *c)
{
	return diff_of(ds_xprintf("%s\n", stored->conninfo), ds_xprintf("%s\n", c->conninfo),
		       c->file);
}
