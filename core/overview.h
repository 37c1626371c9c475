/* overview.h: what `status` shows with no arguments, as data. */
#ifndef DS_OVERVIEW_H
#define DS_OVERVIEW_H

#include <jansson.h>

#include "db.h"

/*
 * The connection (server version, database, user), the schema (name, version, when
 * initialized), the state kept so far, the graphs, the latest batches and the keys
 * that are stuck (ds_stuck_keys: the first DS_STUCK_SHOWN, and how many). Caller frees with
 * json_decref; NULL with err filled on failure.
 */
json_t *ds_overview(struct ds_db *db, struct ds_error *err);

#endif
