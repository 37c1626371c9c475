/*
 * taskset.h: the current tasks and their dependencies, loaded in one round trip, and
 * selectors over them.
 *
 * Selectors are dbt-style: name, name+ (and everything downstream), +name (and
 * everything upstream), graph:NAME, /regex/ (PCRE2), & for the intersection and a
 * comma for the union, & binding first: a+&graph:x,b is (a+ and graph:x) or b. dbt
 * writes the intersection with a comma, but ours was the union long before.
 */
#ifndef DS_TASKSET_H
#define DS_TASKSET_H

#include "db.h"
#include "key.h"

struct ds_task {
	int id;
	char *name;
	char *graph;
	enum ds_key_kind kind;
	int *up, nup;	  /* indexes of direct upstream tasks in the set */
	int *down, ndown; /* indexes of direct downstream tasks */
};

struct ds_taskset {
	struct ds_task *tasks; /* sorted by name */
	int n;
	char **graphs; /* names of the graphs, sorted; NULL-terminated */
	int ngraphs;
};

/* Load the tasks that are not removed. Release with ds_taskset_release(). */
int ds_taskset_load(struct ds_db *db, struct ds_taskset *ts, struct ds_error *err);
void ds_taskset_release(struct ds_taskset *ts);

/* The index of the task called name, or -1. */
int ds_taskset_find(const struct ds_taskset *ts, const char *name);

/*
 * The id of the current task called name, and its kind of key into *kind (if not NULL),
 * or -1 with err set: an unknown name says the closest one ("unknown task 'x' (did you
 * mean 'y'?)"), a selector that it is not a name.
 */
int ds_taskset_task_id(struct ds_db *db, const char *name, enum ds_key_kind *kind,
		       struct ds_error *err);

/*
 * The id of the current task called task, and in key (DS_KEY_SIZE bytes) the one key of
 * its kind that word names: '' for a task without keys, a date or an hour, also as
 * yesterday or today. -1 with err set for an unknown task, or a word that is not one
 * key of the task's kind (a range, a key of another kind).
 */
int ds_taskset_key(struct ds_db *db, const char *task, const char *word, char *key,
		   struct ds_error *err);

/*
 * Mark in selected[] (ts->n entries, zeroed by the caller) the tasks the selector
 * names (NULL: every task), less those exclude (a selector too, or NULL) names, as
 * dbt's --exclude. An
 * unknown task or graph, a bad pattern, a term that matches nothing, or a selection
 * left empty is an error saying which part and why (an error in exclude names it).
 */
int ds_select(const struct ds_taskset *ts, const char *selector, const char *exclude,
	      char *selected, struct ds_error *err);

/*
 * Mark in excluded[] (ts->n entries, zeroed by the caller) the tasks that --exclude
 * names, for a filter that leaves them out itself; an error says it is in --exclude.
 */
int ds_select_excluded(const struct ds_taskset *ts, const char *exclude, char *excluded,
		       struct ds_error *err);

#endif
