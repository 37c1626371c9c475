/*
 * lockwatch.c: a thread with its own connection that samples pg_blocking_pids() of a
 * session. The thread alone uses its connection; the list of sessions seen, and the
 * rows in it, are touched only under the mutex, and handed over whole by take.
 *
 * Its one statement is core/sql/lockwatch/blockers.sql.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "lockwatch.h"
#include "sql.h"
#include "util.h"

struct ds_lockwatch {
	struct ds_db db; /* the watch's own connection, with the watched one's schema */
	char pid[16];	 /* the watched session's backend pid */
	long interval_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int started, stopping;
	json_t *seen; /* under lock */
};

static int seen_before(json_t *seen, json_t *row)
{
	json_int_t pid = json_integer_value(json_object_get(row, "pid"));
	size_t i;
	json_t *s;

	json_array_foreach(seen, i,
			   s) if (json_integer_value(json_object_get(s, "pid")) == pid) return 1;
	return 0;
}

/* One sample, merged into the list; a failed query only loses this sample. */
static void sample(struct ds_lockwatch *w)
{
	const char *params[] = { w->pid };
	json_t *rows = ds_sql_json_rows(&w->db, DS_SQL_LOCKWATCH_BLOCKERS, 1, params, NULL), *row;
	size_t i;

	if (!rows)
		return;
	pthread_mutex_lock(&w->lock);
	json_array_foreach(rows, i, row) if (!seen_before(w->seen, row))
		json_array_append(w->seen, row);
	json_decref(rows);
	pthread_mutex_unlock(&w->lock);
}

static void *watch(void *arg)
{
	struct ds_lockwatch *w = arg;
	struct timespec until;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		pthread_mutex_unlock(&w->lock);
		sample(w);
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += w->interval_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (!w->stopping)
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct ds_lockwatch *ds_lockwatch_start(struct ds_db *db, long interval_ms, struct ds_error *err)
{
	struct ds_lockwatch *w = ds_xmalloc(sizeof(*w));

	memset(w, 0, sizeof(*w));
	w->db.conn = ds_db_connect_like(db->conn, "datashell lock watch", err);
	if (!w->db.conn) {
		free(w);
		return NULL;
	}
	/* So that ds_sql() fills in its statements as on db; ds_db_release() frees them. */
	w->db.schema = ds_xstrdup(db->schema);
	w->db.schema_ident = ds_xstrdup(db->schema_ident);
	snprintf(w->pid, sizeof(w->pid), "%d", PQbackendPID(db->conn));
	w->interval_ms = interval_ms > 0 ? interval_ms : 1;
	w->seen = json_array();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, watch, w) != 0) {
		ds_error_set(err, DS_ERR_FAILED, "cannot start a thread to watch the lock");
		ds_lockwatch_stop(w);
		return NULL;
	}
	w->started = 1;
	return w;
}

json_t *ds_lockwatch_take(struct ds_lockwatch *w)
{
	json_t *taken;

	pthread_mutex_lock(&w->lock);
	taken = w->seen;
	w->seen = json_array();
	pthread_mutex_unlock(&w->lock);
	return taken;
}

void ds_lockwatch_stop(struct ds_lockwatch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	ds_db_release(&w->db);
	json_decref(w->seen);
	free(w);
}
