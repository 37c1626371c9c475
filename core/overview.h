/* overview.h: what `status` shows with no arguments, as data. */
#ifndef DS_OVERVIEW_H
#define DS_OVERVIEW_H

#include <jansson.h>

#include "db.h"

/*
 * The connection (server version, database, user), the schema (name, version, when
 * initialized) and the state kept so far, in one round trip. Caller frees with
 * json_decref; NULL with err filled on failure.
 */
json_t *ds_overview(struct ds_db *db, struct ds_error *err);

#endif
