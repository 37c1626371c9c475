/* why.h: why a key of a task is not done, down to the root causes a person acts on. */
#ifndef DS_WHY_H
#define DS_WHY_H

#include <jansson.h>

#include "db.h"

/*
 * Why key of task is not done, as key_why (core/sql/definitions/55-stuck.sql) tells it:
 * {task, key, state, cause, reason, stuck, done, tree: [{depth, task, key, state, cause,
 * reason, detail, since, action, stuck, leaf, run}], root_causes: [the leaves of tree]}.
 * tree holds the key at depth 0, then each upstream key it waits for that is not done,
 * depth first; done is true for a key that succeeded or was marked. An unknown task and
 * a word that is not one key of the task's kind are errors. Caller frees.
 */
json_t *ds_key_why(struct ds_db *db, const char *task, const char *key, struct ds_error *err);

#endif
