/*
 * history.h: what happened to one key of a task (logs), and keys a person records as
 * done without running them (mark).
 */
#ifndef DS_HISTORY_H
#define DS_HISTORY_H

#include <jansson.h>

#include "audit.h"
#include "db.h"

/*
 * The runs of task for key, newest first (core/sql/runs/history.sql says what each
 * holds): an array of objects. An unknown task, a key that is not one of the task's
 * kind and a key with no run are errors. Caller frees.
 */
json_t *ds_run_history(struct ds_db *db, const char *task, const char *key, struct ds_error *err);

/*
 * Record keys[0..nkeys) of task as done without running them: mark is "success" or
 * "skipped", reason why; the batch they are recorded in holds
 * audit->command, the line that did it. Each word may be a key or a
 * range of them (2024-01-01..2024-01-03). In one transaction with its audit row; all
 * or nothing; a dry run checks the keys as the mark would and writes nothing (no batch,
 * no runs, no audit row). Returns {"task", "mark", "reason", "batch", "keys": [...],
 * "runs": [...]} (with dry_run, batch null and no runs); caller frees.
 * definitions/62-mark.sql says what is refused.
 */
json_t *ds_mark_keys(struct ds_db *db, const char *task, char **keys, int nkeys, const char *mark,
		     const char *reason, int dry_run, struct ds_audit *audit, struct ds_error *err);

#endif
