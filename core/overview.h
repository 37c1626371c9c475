/* overview.h: what `status` shows with no arguments, as data. */
#ifndef DS_OVERVIEW_H
#define DS_OVERVIEW_H

#include <jansson.h>

#include "db.h"

/*
 * The connection (server version, database, user), the schema (name, version, when
 * initialized), the state kept so far, the graphs, the latest batches (the
 * DS_RECENT_BATCHES_SHOWN latest, and "recent_batches_total" counting them all) and the
 * keys that are stuck (ds_stuck_keys: the first DS_STUCK_SHOWN, and how many); with
 * every_row, every batch and every stuck key. Caller frees with json_decref; NULL with
 * err filled on failure.
 */
#define DS_RECENT_BATCHES_SHOWN 5
json_t *ds_overview(struct ds_db *db, int every_row, struct ds_error *err);

#endif
