/*
 * complete.h: the names tab completion offers, read from the state store (tasks, graphs,
 * batches, alerts) and from the catalog (tables). Each read gives up after
 * DS_COMPLETE_TIMEOUT_MS on the server, so a slow or locked server never holds the
 * prompt for long; the caller keeps what it gets for a while (commands/lib/complete.c).
 */
#ifndef DS_COMPLETE_H
#define DS_COMPLETE_H

#include "db.h"

#define DS_COMPLETE_TIMEOUT_MS 300

enum ds_name_kind {
	DS_NAMES_TASKS,	  /* tasks not removed */
	DS_NAMES_GRAPHS,  /* graphs not removed */
	DS_NAMES_BATCHES, /* the ids of the latest batches, newest first */
	DS_NAMES_TABLES,  /* tables, as regclass names them (schema-qualified if needed) */
	DS_NAMES_ALERTS,  /* the ids of the latest alerts not resolved, newest first */
	DS_NAMES_COUNT
};

/*
 * The names of one kind as a NULL-terminated array; caller frees with ds_names_free().
 * NULL with err set when the read failed or took too long.
 */
char **ds_complete_names(struct ds_db *db, enum ds_name_kind kind, struct ds_error *err);
void ds_names_free(char **names);

#endif
