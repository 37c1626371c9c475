/*
 * lockwatch.h: who keeps a session waiting for a lock, seen while it waits.
 *
 * Once a lock wait has timed out, the sessions that caused it may be gone or may no
 * longer show in pg_locks: one queued ahead for a conflicting lock holds nothing yet.
 * So a watch asks pg_blocking_pids() about the session from a connection of its own,
 * every few milliseconds, while the session runs its statements, and keeps every
 * session it saw blocking it.
 */
#ifndef DS_LOCKWATCH_H
#define DS_LOCKWATCH_H

#include <jansson.h>

#include "db.h"
#include "error.h"

struct ds_lockwatch;

/*
 * Start watching the session of db, asking every interval_ms from a connection like
 * db's. NULL with err filled when the watch cannot connect.
 */
struct ds_lockwatch *ds_lockwatch_start(struct ds_db *db, long interval_ms, struct ds_error *err);

/*
 * The sessions seen blocking it since the last call, directly or by blocking a session
 * it waits behind: [{pid, user, state, age_s, query, waits_for}] by pid, each as it was
 * first seen; waits_for lists the pids that session itself waited for, or is null.
 * Caller frees.
 */
json_t *ds_lockwatch_take(struct ds_lockwatch *w);

/* Stop watching and close the watch's connection. NULL does nothing. */
void ds_lockwatch_stop(struct ds_lockwatch *w);

#endif
