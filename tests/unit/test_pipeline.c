/*
 * test_pipeline: reading pipeline files and planning a load, without a server: the
 * normalized definitions, the problems reported and the changes planned against a
 * stored pipeline made up here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/pipeline.h"
#include "tap.h"

/* A task; more is further fields, each starting with a comma. */
#define TASK(name, graph, key, more)                                                               \
	"{\"name\": \"" name "\", \"graph\": \"" graph "\", \"key\": \"" key "\", "                \
	"\"sql\": \"SELECT 1\"" more "}"
#define DEPS(list)	       ", \"depends_on\": [" list "]"
#define FILE_OF(graphs, tasks) "{\"graphs\": {" graphs "}, \"tasks\": [" tasks "]}"
#define G(name)		       "\"" name "\": {}"

static const char *problems(const struct ds_pipeline *p)
{
	return p->errors.s ? p->errors.s : "";
}

/* The problems found reading text as "p.json" on its own. */
static void read_fails(const char *text, const char *want, const char *name)
{
	struct ds_pipeline p;

	ds_pipeline_init(&p);
	ds_pipeline_read_text(&p, "p.json", text);
	tap_is_str(problems(&p), want, name);
	ds_pipeline_release(&p);
}

static char *definition_text(const struct ds_task_def *t)
{
	return json_dumps(t->definition, JSON_COMPACT | JSON_SORT_KEYS);
}

static void test_normalized(void)
{
	struct ds_pipeline p, q;
	char *def;

	ds_pipeline_init(&p);
	tap_is_int(
		ds_pipeline_read_text(
			&p, "p.json",
			FILE_OF(G("g"),
				TASK("a", "g", "daily",
				     DEPS("\"b\", {\"task\": \"b\", \"offset\": -1}") ", \"retry_delay\": \"5m\", \"timeout\": \"1h\"") ","
																	"{\"name\": \"b\", \"graph\": \"g\", \"key\": \"daily\","
																	" \"command\": \"true\", \"retry_delay\": 45,"
																	" \"timeout\": \"30s\", \"target\": \"s.t\"}")),
		0, "a good file has no problems");
	tap_is_int(p.ntasks, 2, "both tasks are read");
	tap_is_int(p.graphs[0].max_active, 4, "max_active defaults to 4");
	tap_is_int(p.graphs[0].paused, -1, "paused not given: leave it alone");
	def = definition_text(&p.tasks[0]);
	tap_is_str(def,
		   "{\"breaker\":{},\"checks\":[],\"command\":null,\"complete_when\":null,"
		   "\"depends_on\":[{\"offset\":-1,\"task\":\"b\"},{\"offset\":0,\"task\":\"b\"}],"
		   "\"error_classes\":[],\"graph\":\"g\",\"key\":\"daily\",\"name\":\"a\","
		   "\"retries\":0,\"retry_delay\":300,\"sla\":null,\"sql\":\"SELECT 1\","
		   "\"target\":null,\"timeout\":3600}",
		   "the definition is normalized: defaults, seconds, dependencies as objects");
	free(def);
	def = definition_text(&p.tasks[1]);
	tap_is_str(def,
		   "{\"breaker\":{},\"checks\":[],\"command\":\"true\",\"complete_when\":null,"
		   "\"depends_on\":[],\"error_classes\":[],\"graph\":\"g\",\"key\":\"daily\","
		   "\"name\":\"b\",\"retries\":0,\"retry_delay\":45,\"sla\":null,\"sql\":null,"
		   "\"target\":\"s.t\",\"timeout\":30}",
		   "seconds as a number, a command task");
	free(def);

	ds_pipeline_init(&q);
	ds_pipeline_read_text(
		&q, "q.json",
		FILE_OF("\"g\": {\"max_active\": 2, \"paused\": true}",
			TASK("a", "g", "daily",
			     DEPS("{\"task\": \"b\", \"offset\": -1}, {\"task\": \"b\"}") ", \"retry_delay\": 300, \"timeout\": 3600, \"target\": null,"
											  " \"checks\": []")));
	tap_ok(json_equal(p.tasks[0].definition, q.tasks[0].definition),
	       "the same task in other words has the same definition");
	tap_is_int(q.graphs[0].paused, 1, "paused given");
	ds_pipeline_release(&q);
	ds_pipeline_release(&p);
}

static void test_problems(void)
{
	read_fails("{\"tasks\": [\n  {\"name\": \"a\",}\n]}",
		   "p.json:2:16: invalid JSON: string or '}' expected near '}'\n",
		   "a syntax error has its line and column");
	read_fails("[]", "p.json: expected an object with \"graphs\" and \"tasks\", got an array\n",
		   "the file is one object");
	read_fails(FILE_OF(G("g"), TASK("a", "g", "daily", ", \"retires\": 2")),
		   "p.json: tasks[0] (a): unknown field 'retires' (did you mean 'retries'?)\n",
		   "an unknown field, with a suggestion");
	read_fails(FILE_OF(G("g"), TASK("a", "g", "daily", ", \"retries\": \"2\"")),
		   "p.json: tasks[0] (a).retries: expected a whole number, got a string\n",
		   "a wrong type");
	read_fails(FILE_OF(G("g"), TASK("a", "g", "daily",
					", \"retry_delay\": \"5 m\", \"timeout\": \"0s\"")),
		   "p.json: tasks[0] (a).retry_delay: invalid duration '5 m': give seconds or a "
		   "duration such as \"30s\", \"5m\", \"1h\" or \"7d\"\n"
		   "p.json: tasks[0] (a).timeout: must be at least 1s, got '0s'\n",
		   "bad durations");
	read_fails("{\"graphs\": {\"g\": {}}, \"tasks\": [{\"name\": \"a:b\", \"graph\": \"g\","
		   " \"key\": \"daily\", \"sql\": \"SELECT :'key', :\\\"target\\\"\"}]}",
		   "p.json: tasks[0].name: invalid name 'a:b': use letters, digits, '_', '.' and "
		   "'-', starting with a letter or '_'\n"
		   "p.json: tasks[0].sql: uses the variable 'target' at character 16, but the task "
		   "has no 'target'\n",
		   "a name selectors cannot use; :\"target\" without a target");
	read_fails(FILE_OF(G("g"), "{\"name\": \"a\", \"graph\": \"g\", \"key\": \"weekly\"" DEPS(
					   "\"b\", \"b\", {\"task\": \"c\", \"offset\": 2}") "}"),
		   "p.json: tasks[0] (a).key: unknown key kind 'weekly'\n"
		   "p.json: tasks[0] (a): needs 'sql' (run in the warehouse) or 'command' (run by "
		   "/bin/sh)\n"
		   "p.json: tasks[0] (a).depends_on[1]: depends on 'b' twice\n"
		   "p.json: tasks[0] (a).depends_on[2].offset: must be at most 0, got 2\n",
		   "every problem of a task is reported");
}

/* Error classes, breakers and SLAs: normalized, the file's rules after the task's own. */
static void test_safety(void)
{
	struct ds_pipeline p;
	char *def;

	ds_pipeline_init(&p);
	tap_is_int(
		ds_pipeline_read_text(
			&p, "p.json",
			"{\"graphs\": {\"g\": {\"breaker\": {\"failures\": 2}}},"
			" \"error_classes\": [{\"class\": \"transient\", \"sqlstate\": \"57014\"}],"
			" \"tasks\": [{\"name\": \"a\", \"graph\": \"g\", \"key\": \"daily\","
			" \"sql\": \"SELECT 1\", \"error_classes\": [{\"class\": \"quota\","
			" \"pattern\": \"(?i)quota\", \"retry\": false}],"
			" \"breaker\": {\"cooldown\": \"5m\", \"window\": \"1h\"},"
			" \"sla\": {\"time\": \"06:30\", \"timezone\": \"Europe/Paris\"}}]}"),
		0, "error classes, a breaker and an SLA read without problems");
	def = json_dumps(json_object_get(p.tasks[0].definition, "error_classes"), JSON_COMPACT);
	tap_is_str(def,
		   "[{\"class\":\"quota\",\"pattern\":\"(?i)quota\",\"sqlstate\":null,"
		   "\"retry\":false},{\"class\":\"transient\",\"pattern\":null,"
		   "\"sqlstate\":\"57014\",\"retry\":true}]",
		   "the task's rules come first, then the file's");
	free(def);
	def = json_dumps(json_object_get(p.tasks[0].definition, "breaker"),
			 JSON_COMPACT | JSON_SORT_KEYS);
	tap_is_str(def, "{\"cooldown\":300,\"window\":3600}", "breaker durations in seconds");
	free(def);
	def = json_dumps(p.graphs[0].breaker, JSON_COMPACT);
	tap_is_str(def, "{\"failures\":2}", "the graph's breaker settings");
	free(def);
	def = json_dumps(json_object_get(p.tasks[0].definition, "sla"),
			 JSON_COMPACT | JSON_SORT_KEYS);
	tap_is_str(def, "{\"days_after\":1,\"time\":\"06:30\",\"timezone\":\"Europe/Paris\"}",
		   "the SLA with its defaults");
	free(def);
	ds_pipeline_release(&p);

	read_fails(
		FILE_OF(G("g"),
			TASK("a", "g", "daily",
			     ", \"error_classes\": [{\"class\": \"x\", \"pattern\": \"(ab\"},"
			     " {\"class\": \"y\", \"sqlstate\": \"4000\"},"
			     " {\"class\": \"fatal\", \"pattern\": \"x\", \"retry\": true},"
			     " {\"class\": \"z\"}]")),
		"p.json: tasks[0] (a).error_classes[0].pattern: invalid regular expression at "
		"character 4: missing closing parenthesis\n"
		"p.json: tasks[0] (a).error_classes[1].sqlstate: invalid SQLSTATE '4000': give 5 "
		"characters (\"40P01\") or a class of 2 (\"08\")\n"
		"p.json: tasks[0] (a).error_classes[2].retry: class 'fatal' always fails without "
		"a retry\n"
		"p.json: tasks[0] (a).error_classes[3]: needs a 'pattern', a 'sqlstate' or both\n",
		"bad error class rules, with PCRE2's message and offset");
	read_fails(
		FILE_OF(G("g"),
			TASK("a", "g", "hourly", ", \"sla\": {\"time\": \"25:00\"}") "," TASK(
				"b", "g", "daily",
				", \"sla\": {\"time\": \"06:00\","
				" \"timezone\": \"Mars/Olympus\"}") "," TASK("c", "g", "none",
									     ", \"sla\": {\"within\": \"1h\"}") "," TASK("d",
															 "g",
															 "daily",
															 ", \"breaker\": {\"failures\": 0,"
															 " \"cooldwn\": 1}")),
		"p.json: tasks[0] (a).sla.time: invalid time of day '25:00': expected HH:MM\n"
		"p.json: tasks[2] (c).sla: a task with key 'none' has no deadline per key\n"
		"p.json: tasks[3] (d).breaker: unknown field 'cooldwn' (did you mean "
		"'cooldown'?)\n"
		"p.json: tasks[3] (d).breaker.failures: must be at least 1, got 0\n",
		"bad SLAs and breakers");
}

/* What is stored: graphs g and h; h's x depends on g's c; g's gone was removed. */
static const char stored_text[] =
	FILE_OF(G("g") "," G("h"),
		TASK("a", "g", "daily", "") "," TASK("c", "g", "daily", "") "," TASK(
			"gone", "g", "daily", "") "," TASK("x", "h", "daily", DEPS("\"c\"")));

/* Plan files_text (as "new.json") against what is stored; the plan's result. */
static int plan(const char *files_text, struct ds_pipeline *files, struct ds_load_plan *pl)
{
	struct ds_pipeline stored;
	int rc;

	ds_pipeline_init(&stored);
	ds_pipeline_read_text(&stored, "old.json", stored_text);
	stored.tasks[2].removed = 1;
	ds_pipeline_init(files);
	ds_pipeline_read_text(files, "new.json", files_text);
	rc = ds_pipeline_plan(files, &stored, pl);
	ds_pipeline_release(&stored);
	return rc;
}

static void plan_fails(const char *files_text, const char *want, const char *name)
{
	struct ds_pipeline files;
	struct ds_load_plan pl;

	tap_is_int(plan(files_text, &files, &pl), -1, name);
	tap_is_str(problems(&files), want, "  and says why");
	ds_load_plan_release(&pl);
	ds_pipeline_release(&files);
}

static void test_plan(void)
{
	struct ds_pipeline files;
	struct ds_load_plan pl;

	tap_is_int(plan(FILE_OF("\"g\": {\"max_active\": 9}",
				TASK("a", "g", "daily", ", \"retries\": 1") "," TASK(
					"c", "g", "daily",
					"") "," TASK("gone", "g", "daily",
						     "") "," TASK("d", "g", "daily",
								  DEPS("\"x\", \"c\""))),
			&files, &pl),
		   0, "a load that changes, revives and adds plans");
	tap_is_str(problems(&files), "", "  without problems");
	tap_is_str(ds_change_name(pl.graph_change[0]), "changed", "  max_active changed");
	tap_is_str(ds_change_name(pl.task_change[0]), "changed", "  a's retries changed");
	tap_is_str(ds_change_name(pl.task_change[1]), "unchanged", "  c is the same");
	tap_is_int(pl.write_task[1], 1, "  but moved to another file");
	tap_is_str(ds_change_name(pl.task_change[2]), "revived", "  gone comes back");
	tap_is_str(ds_change_name(pl.task_change[3]), "added", "  d is new, upstream x of h");
	tap_is_int(pl.nremoved, 0, "  nothing removed");
	ds_load_plan_release(&pl);
	ds_pipeline_release(&files);

	tap_is_int(plan(FILE_OF(G("g") "," G("h"), TASK("a", "g", "daily", "")), &files, &pl), 0,
		   "declaring graphs without their tasks removes them");
	tap_is_int(pl.nremoved, 2, "  c and x are removed, gone already was");
	tap_is_int(pl.tasks[DS_REMOVED], 2, "  and counted");
	ds_load_plan_release(&pl);
	ds_pipeline_release(&files);

	plan_fails(FILE_OF(G("g"), TASK("a", "g", "daily", "")),
		   "new.json: graphs.g: removes task 'c', which task 'x' of graph 'h' depends on\n",
		   "removing a task another graph depends on fails");
	plan_fails(FILE_OF(G("g"), TASK("a", "g", "daily", "") "," TASK("c", "g", "daily",
									DEPS("\"a\", \"x\""))),
		   "new.json: tasks[1] (c).depends_on: dependency cycle: c -> x -> c\n",
		   "a cycle through a stored task of another graph");
	plan_fails(FILE_OF(G("g"), TASK("a", "g", "daily", "") "," TASK("c", "g", "hourly", "")),
		   "new.json: tasks[1] (c).key: task 'x' of graph 'h' depends on this task and its "
		   "key is daily: a dependency needs the same key kind\n",
		   "a key kind changed under a task of another graph");
	plan_fails(FILE_OF(G("g"), TASK("a", "g", "daily", "") "," TASK(
					   "c", "g", "daily", "") "," TASK("x", "g", "daily", "")),
		   "new.json: tasks[2] (x): task 'x' belongs to graph 'h', which the files loaded "
		   "do not declare; load that graph's files too to move it\n",
		   "a task of another graph is not taken over");
	plan_fails(
		FILE_OF(G("g"),
			TASK("a", "g", "daily", DEPS("\"gone\", \"b\"")) "," TASK(
				"b", "g", "daily",
				DEPS("\"c\", \"a\"")) "," TASK("c", "g", "daily",
							       "") "," TASK("b", "k", "daily", "")),
		"new.json: tasks[3] (b): task 'b' is already defined in new.json at tasks[1]\n"
		"new.json: tasks[3] (b).graph: graph 'k' is not declared in the files loaded "
		"(did you mean 'g'?)\n"
		"new.json: tasks[0] (a).depends_on[0]: unknown task 'gone'\n"
		"new.json: tasks[0] (a).depends_on: dependency cycle: a -> b -> a\n",
		"duplicates, undeclared graphs, removed upstreams and cycles");
}

/* A copy of obj with its keys inserted in the opposite order, as jsonb may give them. */
static json_t *reversed(json_t *obj)
{
	json_t *out = json_object(), *v;
	const char **keys = malloc((json_object_size(obj) + 1) * sizeof(*keys)), *k;
	size_t n = 0;

	json_object_foreach(obj, k, v) keys[n++] = k;
	while (n--)
		json_object_set(out, keys[n], json_object_get(obj, keys[n]));
	free(keys);
	return out;
}

static void test_diff(void)
{
	struct ds_pipeline files;
	struct ds_load_plan pl;
	json_t *turned;
	char *text, *other;

	ds_pipeline_init(&files);
	ds_pipeline_read_text(&files, "new.json",
			      FILE_OF(G("g"), "{\"name\": \"a\", \"graph\": \"g\", \"key\": "
					      "\"daily\", \"sql\": \"SELECT 1\\nFROM t\\n\", "
					      "\"schedule\": {\"start\": \"2024-01-01\", "
					      "\"delay\": \"1h\"}, "
					      "\"complete_when\": \"SELECT true\\nFROM t\"}"));
	text = ds_task_definition_text(files.tasks[0].definition);
	tap_is_str(text,
		   "{\n"
		   "  \"name\": \"a\",\n"
		   "  \"graph\": \"g\",\n"
		   "  \"key\": \"daily\",\n"
		   "  \"target\": null,\n"
		   "  \"depends_on\": [],\n"
		   "  \"retries\": 0,\n"
		   "  \"retry_delay\": 60,\n"
		   "  \"timeout\": null,\n"
		   "  \"checks\": [],\n"
		   "  \"error_classes\": [],\n"
		   "  \"breaker\": {},\n"
		   "  \"sla\": null,\n"
		   "  \"schedule\": {\n"
		   "    \"delay\": 3600,\n"
		   "    \"start\": \"2024-01-01\"\n"
		   "  }\n"
		   "}\n"
		   "sql:\n"
		   "    SELECT 1\n"
		   "    FROM t\n"
		   "\n"
		   "complete_when:\n"
		   "    SELECT true\n"
		   "    FROM t\n",
		   "a definition as text: fields in order, SQL as lines, a last newline kept");
	turned = reversed(files.tasks[0].definition);
	other = ds_task_definition_text(turned);
	tap_is_str(other, text, "  the same whatever the order of its keys");
	free(other);
	free(text);
	json_decref(turned);
	ds_pipeline_release(&files);

	tap_is_int(plan(FILE_OF("\"g\": {\"max_active\": 9}",
				TASK("a", "g", "daily", ", \"retries\": 1") "," TASK(
					"c", "g", "daily", "") "," TASK("gone", "g", "daily", "")),
			&files, &pl),
		   0, "a plan with a changed task and graph");
	tap_is_int(pl.stored_task[0], 0, "  a's stored task is known");
	tap_is_int(pl.stored_graph[0], 0, "  and g's stored graph");
	{
		struct ds_pipeline stored;

		ds_pipeline_init(&stored);
		ds_pipeline_read_text(&stored, "old.json", stored_text);
		stored.graphs[0].paused = 1; /* as the store has it: paused or not */
		text = ds_task_def_diff(&stored.tasks[0], &files.tasks[0]);
		tap_is_str(text,
			   "--- stored\n+++ new.json\n@@ -4,7 +4,7 @@\n"
			   "   \"key\": \"daily\",\n   \"target\": null,\n"
			   "   \"depends_on\": [],\n-  \"retries\": 0,\n+  \"retries\": 1,\n"
			   "   \"retry_delay\": 60,\n   \"timeout\": null,\n   \"checks\": [],\n",
			   "  a's diff shows its retries");
		free(text);
		text = ds_graph_def_diff(&stored.graphs[0], &files.graphs[0]);
		tap_is_str(text,
			   "--- stored\n+++ new.json\n@@ -1,6 +1,6 @@\n {\n   \"name\": \"g\",\n"
			   "-  \"max_active\": 4,\n+  \"max_active\": 9,\n   \"paused\": true,\n"
			   "   \"breaker\": {},\n   \"schedule\": {}\n",
			   "  g's diff shows max_active; paused, not given, stays as stored");
		free(text);
		text = ds_task_def_diff(&stored.tasks[1], &files.tasks[1]);
		tap_ok(text == NULL, "  an unchanged task has no diff");
		free(text);
		ds_pipeline_release(&stored);
	}
	ds_load_plan_release(&pl);
	ds_pipeline_release(&files);
}

/* The text a task's fingerprint is taken of, for a file of one task with more fields. */
static char *output_of(const char *sql, const char *more)
{
	struct ds_pipeline p;
	char *text, *doc = NULL;

	ds_pipeline_init(&p);
	if (asprintf(&doc,
		     "{\"graphs\": {\"g\": {}}, \"tasks\": [{\"name\": \"t\", \"graph\": \"g\", "
		     "\"key\": \"daily\", \"sql\": \"%s\"%s}]}",
		     sql, more) < 0)
		abort();
	ds_pipeline_read_text(&p, "p.json", doc);
	text = p.ntasks ? ds_task_output_text(p.tasks[0].definition) : NULL;
	ds_pipeline_release(&p);
	free(doc);
	return text;
}

/* Whether two definitions fingerprint the same. */
static void same_output(const char *sql1, const char *more1, const char *sql2, const char *more2,
			int want, const char *name)
{
	char *a = output_of(sql1, more1), *b = output_of(sql2, more2);

	tap_is_int(a && b && !strcmp(a, b), want, name);
	free(a);
	free(b);
}

static void test_versions(void)
{
	same_output("SELECT 1", "", "  SELECT\\n 1 -- one", "", 1,
		    "layout and comments are not in the fingerprint");
	same_output("SELECT 1", "", "SELECT 1", ", \"timeout\": \"5m\", \"retries\": 3", 1,
		    "nor are timeout and retries");
	same_output("SELECT 1", "", "SELECT 1", ", \"sla\": {\"within\": \"2h\"}", 1, "nor an SLA");
	same_output("SELECT 1", "", "SELECT 2", "", 0, "the SQL is");
	same_output("SELECT 'a b'", "", "SELECT 'a  b'", "", 0, "so is a literal's text");
	same_output("SELECT 1", "", "SELECT 1", ", \"target\": \"t\"", 0, "and the target");
	same_output("SELECT 1", "", "SELECT 1", ", \"complete_when\": \"SELECT true\"", 0,
		    "and complete_when");
	same_output("SELECT 1", ", \"checks\": [{\"name\": \"c\", \"sql\": \"SELECT  1\"}]",
		    "SELECT 1", ", \"checks\": [{\"name\": \"c\", \"sql\": \"SELECT 1 -- x\"}]", 1,
		    "and the checks, normalized");
}

/* Connections: checked as read, resolved for each SQL task as planned. */
static void test_connections(void)
{
	struct ds_pipeline files;
	struct ds_load_plan pl;

	read_fails("{\"connections\": {\"w\": \"host=h password=x\", \"v\": \"dbname\", "
		   "\"u\": \"postgresql://me:pw@h/db\", \"x:y\": \"host=h\", \"t\": 3}}",
		   "p.json: connections.w: has a password: put it in ~/.pgpass or the service file "
		   "on the machines the workers run on, not in a pipeline file\n"
		   "p.json: connections.v: invalid connection string: missing \"=\" after "
		   "\"dbname\" in connection info string\n"
		   "p.json: connections.u: has a password: put it in ~/.pgpass or the service file "
		   "on the machines the workers run on, not in a pipeline file\n"
		   "p.json: connections: invalid connection name 'x:y': use letters, digits, '_', "
		   "'.' and '-', starting with a letter or '_'\n"
		   "p.json: connections.t: expected a connection string such as "
		   "\"service=warehouse\" or \"host=... dbname=...\", got a whole number\n",
		   "passwords, strings libpq cannot parse, bad names and types are refused");
	read_fails(FILE_OF(G("g"), "{\"name\": \"a\", \"graph\": \"g\", \"key\": \"none\", "
				   "\"command\": \"true\", \"connection\": \"w\"}"),
		   "p.json: tasks[0] (a).connection: a command task runs its own programs; "
		   "'connection' is for SQL tasks\n",
		   "a command task has no connection");
	plan_fails(
		"{\"connections\": {\"w\": \"service=w\"}, \"graphs\": {\"cg\": "
		"{\"connection\": \"nowhere\"}}, \"tasks\": [" TASK(
			"ca", "cg", "daily", ", \"connection\": \"ww\"") "]}",
		"new.json: graphs.cg.connection: unknown connection 'nowhere': declare it in "
		"\"connections\"\n"
		"new.json: tasks[0] (ca).connection: unknown connection 'ww' (did you mean 'w'?): "
		"declare it in \"connections\"\n",
		"unknown connections, the graph's and the task's");
	tap_is_int(
		plan("{\"connections\": {\"w\": \"service=w\", \"v\": \"service=v\"}, "
		     "\"graphs\": {\"cg\": {\"connection\": \"w\"}}, \"tasks\": [" TASK(
			     "ca", "cg", "daily",
			     "") "," TASK("cb", "cg", "daily",
					  ", \"connection\": \"v\"") ","
								     "{\"name\": \"cc\", \"graph\": \"cg\", "
								     "\"key\": \"none\", \"command\": "
								     "\"true\"}]}",
		     &files, &pl),
		0, "a graph's connection and a task's own plan");
	tap_is_str(json_string_value(json_object_get(files.tasks[0].definition, "connection")), "w",
		   "  a task takes its graph's");
	tap_is_str(json_string_value(json_object_get(files.tasks[1].definition, "connection")), "v",
		   "  a task's own wins");
	tap_is_int(json_object_get(files.tasks[2].definition, "connection") == NULL, 1,
		   "  a command task takes none");
	tap_is_int(pl.conns[DS_ADDED], 2, "  both connections added");
	ds_load_plan_release(&pl);
	ds_pipeline_release(&files);
}

int main(void)
{
	test_normalized();
	test_versions();
	test_problems();
	test_safety();
	test_plan();
	test_diff();
	test_connections();
	return tap_done();
}
