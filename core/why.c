/* why.c: why a key is not done (core/sql/why/tree.sql, the rule in definitions/55-stuck.sql). */
#include <stdio.h>
#include <string.h>

#include "sql.h"
#include "taskset.h"
#include "why.h"

static int is_done(const char *cause)
{
	return !strcmp(cause, "done") || !strcmp(cause, "marked");
}

json_t *ds_key_why(struct ds_db *db, const char *task, const char *key, struct ds_error *err)
{
	char id[16], canonical[DS_KEY_SIZE];
	const char *params[] = { id, canonical };
	json_t *tree, *top, *roots, *row;
	int task_id = ds_taskset_key(db, task, key, canonical, err);
	size_t i;

	if (task_id < 0)
		return NULL;
	snprintf(id, sizeof(id), "%d", task_id);
	tree = ds_sql_json_rows(db, DS_SQL_WHY_TREE, 2, params, err);
	if (!tree)
		return NULL;
	top = json_array_get(tree, 0);
	roots = json_array();
	json_array_foreach(tree, i, row)
	{
		if (json_is_true(json_object_get(row, "leaf")))
			json_array_append(roots, row);
	}
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:b, s:o, s:o}", "task",
			 json_object_get(top, "task"), "key", json_object_get(top, "key"), "state",
			 json_object_get(top, "state"), "cause", json_object_get(top, "cause"),
			 "reason", json_object_get(top, "reason"), "stuck",
			 json_object_get(top, "stuck"), "done",
			 is_done(json_string_value(json_object_get(top, "cause"))), "tree", tree,
			 "root_causes", roots);
}
