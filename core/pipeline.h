/*
 * pipeline.h: pipeline definitions: graphs and tasks written in JSON files (the format
 * is datashell-pipelines(5)), checked as a whole against what the state store holds,
 * and loaded in one transaction.
 *
 * Reading and planning are pure (no server): a struct ds_pipeline holds what some files
 * define, or what the state store holds, and ds_pipeline_plan() compares the two. The
 * functions that take a struct ds_db are the ones that talk to the server.
 */
#ifndef DS_PIPELINE_H
#define DS_PIPELINE_H

#include <stdarg.h>

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "key.h"
#include "util.h"

/* A dependency on another task's run for the same key (offset 0) or an earlier one. */
struct ds_task_dep {
	char *task;
	int offset; /* in keys (days or hours), never positive */
	int index;  /* its place in the file's "depends_on", for messages */
};

/* Where a task is in its file, for messages: "tasks[3] (orders_daily)". */
#define DS_TASK_PATH "tasks[%d] (%s)"

/* A task as a file defines it, or as the state store holds it. */
struct ds_task_def {
	char *name;
	char *graph; /* NULL when a file gave none that could be used */
	enum ds_key_kind key;
	struct ds_task_dep *deps;
	int ndeps;
	json_t *definition; /* normalized: what tasks.definition holds */
	char *file;	    /* the file it comes from (tasks.source), or NULL */
	int index;	    /* its place in the file's "tasks" */
	int key_unknown;    /* the file gave no usable key: key is a stand-in */
	int removed;	    /* stored: tasks.removed_at is set */
};

struct ds_graph_def {
	char *name;
	int max_active;
	int paused;	  /* 1 or 0; -1 when a file does not say (leave it as it is) */
	json_t *breaker;  /* the breaker settings it gives its tasks: {} for none */
	json_t *schedule; /* the schedule it gives its tasks, normalized: {} for none */
	char *file;
	int removed;	  /* stored: graphs.removed_at is set */
	char *connection; /* the connection its tasks run on unless they name one; NULL */
};

/*
 * A named connection (datashell-pipelines(5)): where the SQL of the tasks that name it
 * runs. conninfo is a libpq connection string or URI, without a password.
 */
struct ds_conn_def {
	char *name;
	char *conninfo;
	char *file; /* the file that declares it (connections.source) */
};

/* What a set of files defines, and what is wrong with it; or what the store holds. */
struct ds_pipeline {
	struct ds_task_def *tasks;
	int ntasks;
	struct ds_graph_def *graphs;
	int ngraphs;
	struct ds_conn_def *conns;
	int nconns;
	struct ds_buf errors; /* one line per problem: "FILE: PATH: what is wrong" */
	int nerrors;
	int unreadable; /* files that could not be opened or parsed at all */
};

void ds_pipeline_init(struct ds_pipeline *p);
void ds_pipeline_release(struct ds_pipeline *p);
void ds_task_def_release(struct ds_task_def *t);

/* Record one problem, a line "FILE: PATH: MESSAGE" (path may be empty). */
void ds_pipeline_problem(struct ds_pipeline *p, const char *file, const char *path, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));
void ds_pipeline_vproblem(struct ds_pipeline *p, const char *file, const char *path,
			  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Read one pipeline file and check it on its own: syntax, fields, types, names, SQL
 * variables. Its graphs and tasks are added to p, its problems to p->errors. Returns
 * the number of problems found in it.
 */
int ds_pipeline_read_file(struct ds_pipeline *p, const char *path);

/*
 * The files that load's words name, in order: a file that exists as named (even when
 * its name has *, ? or [ in it), a directory's *.json files (not those of its
 * subdirectories), a glob(3) pattern's files (not the directories it matches), a name
 * that is neither as it is (reading it says what is wrong). The files of one
 * directory or pattern are in name order (strcmp, whatever the locale); a file named
 * twice is read once. NULL-terminated, *nfiles of them; caller frees with
 * ds_names_free(). NULL with err when a pattern matches nothing or a directory has no
 * *.json file.
 */
char **ds_pipeline_files(char *const *words, int nwords, int *nfiles, struct ds_error *err);

/* The same for text already in memory; name is the file name messages give. */
int ds_pipeline_read_text(struct ds_pipeline *p, const char *name, const char *text);

/* What loading does to one graph or task. */
enum ds_change {
	DS_UNCHANGED,
	DS_ADDED,
	DS_REVIVED, /* a removed task defined again: same id, history kept */
	DS_CHANGED, /* its normalized definition differs from the stored one */
	DS_REMOVED,
};

#define DS_NCHANGES (DS_REMOVED + 1)

/* "added", "revived", ...: the words reports and --json use. */
const char *ds_change_name(enum ds_change change);

/* What loading some files would do to the stored pipelines. */
struct ds_load_plan {
	enum ds_change *graph_change; /* one per graph of the files */
	enum ds_change *task_change;  /* one per task of the files */
	int *write_task;	      /* one per task of the files: its row must be written */
	int *stored_task;	      /* one per task of the files: the stored one, or -1 */
	int *stored_graph;	      /* one per graph of the files: the stored one, or -1 */
	int *removed;		      /* stored tasks (indexes) that the files remove */
	int nremoved;
	enum ds_change *conn_change; /* one per connection of the files */
	int *stored_conn;	     /* one per connection of the files: the stored one, or -1 */
	int *removed_conns;	     /* stored connections (indexes) that the files remove */
	int nremoved_conns;
	int graphs[DS_NCHANGES]; /* counts by change */
	int tasks[DS_NCHANGES];
	int conns[DS_NCHANGES];
};

/*
 * Check the files' definitions as a whole against what is stored (duplicate names,
 * undeclared graphs, unknown upstreams, dependency cycles, removals that would break
 * a remaining task) and plan the load. The graphs the files declare are theirs: a
 * stored task of one of them that the files do not define is removed. Problems go to
 * files->errors; returns -1 if there are any (the plan is then incomplete).
 * Release the plan with ds_load_plan_release() either way.
 */
int ds_pipeline_plan(struct ds_pipeline *files, const struct ds_pipeline *stored,
		     struct ds_load_plan *plan);
void ds_load_plan_release(struct ds_load_plan *plan);

/*
 * A task's normalized definition as a person reads it and a line diff compares it: its
 * fields as indented JSON, in a fixed order whatever order the definition has them in
 * (nested objects by key), then its "sql" or "command", and its "complete_when" if it
 * has one, each as a block of its own lines: "sql:", then each line indented by four
 * spaces. Caller frees.
 */
char *ds_task_definition_text(json_t *definition);

/* A graph's settings the same way: name, max_active, paused, breaker, schedule. */
char *ds_graph_definition_text(const struct ds_graph_def *g, int paused);

/*
 * What a load changes in a stored task or graph: the unified diff (core/textdiff.h,
 * 3 lines of context) of its text above, "--- stored" against "+++ FILE" (the file that
 * defines it now). NULL when the texts are the same. Caller frees.
 */
char *ds_task_def_diff(const struct ds_task_def *stored, const struct ds_task_def *t);
char *ds_graph_def_diff(const struct ds_graph_def *stored, const struct ds_graph_def *g);
char *ds_conn_def_diff(const struct ds_conn_def *stored, const struct ds_conn_def *c);

/*
 * Put p's problems into err, one per line, as many as fit; always returns -1. The
 * hint says nothing was changed.
 */
int ds_pipeline_error(const struct ds_pipeline *p, struct ds_error *err);

/*
 * Read every graph and task the state store holds, removed ones included, into p
 * (initialized by the caller), with their definitions and dependencies.
 */
int ds_pipeline_read_stored(struct ds_db *db, struct ds_pipeline *p, struct ds_error *err);

/*
 * Load pipeline files: read and check them all, then apply them in one transaction
 * with its audit row (audit, see core/audit.h). With dry_run the same happens and is rolled
 * back. Returns the report (caller frees with json_decref): the files, dry_run, the
 * changes ([{"object": "connection"|"graph"|"task", "name", "graph" (null for a
 * connection), "change"}], and for a
 * changed one "diff": see ds_task_def_diff()), counts of tasks
 * and graphs by change, and runs_cancelled / runs_stopping (runs of removed tasks that
 * were cancelled, or asked to stop because they were running); and when the load adds a
 * schedule to a task or moves its start earlier, "schedule": {"runs", "tasks": {name:
 * runs}}, what the next pass of the schedule will enqueue for those tasks, asked of the
 * server inside the load's transaction (see core/sql/schedule/load_plan.sql). NULL with err filled,
 * listing every problem found, when anything is wrong; nothing is changed then.
 */
json_t *ds_pipeline_load(struct ds_db *db, char *const *paths, int npaths, struct ds_audit *audit,
			 int dry_run, struct ds_error *err);

/*
 * The same, and the report says what the load makes stale: "stale": {"keys" (each
 * complete key built by a version before the load that no longer is current, counted
 * once), "tasks": [{task, version_changed, stale, tasks: {name: keys}}] per task the load
 * changed or revived, itself and its downstream tasks}. keep_current (task names, comma
 * separated, or NULL) accepts the new versions of those tasks as current for their keys
 * built by the version before ("kept_current": {name: keys}); an unknown name is an
 * error and nothing is changed.
 */
json_t *ds_pipeline_load_keeping(struct ds_db *db, char *const *paths, int npaths,
				 const char *keep_current, struct ds_audit *audit, int dry_run,
				 struct ds_error *err);

/*
 * pipeline load --check-connections: connect from this machine to each connection the
 * files declare, in file order, then to each stored one that their graphs and tasks name
 * without declaring it, and say whether it answered: [{"connection", "file" (that
 * declares it), "stored" (true: declared by a file loaded before), "reachable", "error"
 * (why not, or null)}]. Caller frees; NULL with err when the files themselves are wrong
 * (as the load would say).
 */
json_t *ds_pipeline_check_connections(struct ds_db *db, char *const *paths, int npaths,
				      struct ds_error *err);

/*
 * The tasks not removed, in graph then name order, optionally of one graph only:
 * [{"task", "graph", "key", "kind" ("sql" or "command"), "upstream" (names, comma
 * separated, "name[-1]" for an earlier key), "target"}]. An unknown graph is an error
 * with a suggestion. Caller frees.
 */
json_t *ds_pipeline_list(struct ds_db *db, const char *graph, struct ds_error *err);

/*
 * One task in full: its fields, the definition as loaded, its direct upstream and
 * downstream tasks ([{"task", "graph", "offset"}]), its graph's pause state and the
 * number of its runs in each state. Caller frees; NULL with a suggestion in err for
 * an unknown task.
 */
json_t *ds_pipeline_show(struct ds_db *db, const char *task, struct ds_error *err);

/*
 * Pause or resume a graph (graphs.paused, paused_at, paused_by), audited. Returns
 * {"graph", "paused", "paused_at", "paused_by", "changed"}; changed is false when the
 * graph already was in that state. With dry_run nothing is kept: the result says what
 * would be. Caller frees.
 */
json_t *ds_graph_set_paused(struct ds_db *db, const char *graph, int paused, struct ds_audit *audit,
			    int dry_run, struct ds_error *err);

/*
 * What changes a task's output, from its normalized definition, as the canonical text
 * whose md5 is the task's fingerprint (core/pipeline_version.c says what is in it).
 * Caller frees.
 */
char *ds_task_output_text(json_t *definition);

/*
 * Recompute every task's version from the fingerprints, in the caller's transaction:
 * the tasks whose version changed, [{id, name, old_version, new_version}]. Caller frees;
 * NULL with err on failure.
 */
json_t *ds_task_versions_write(struct ds_db *db, struct ds_error *err);

/*
 * Fingerprint the tasks stored before versions existed and give their runs the version
 * of their task, in the caller's transaction (init, after migration 12). Does nothing
 * when every task has a fingerprint.
 */
int ds_task_versions_fill(struct ds_db *db, struct ds_error *err);

#endif
