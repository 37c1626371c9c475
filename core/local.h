/*
 * local.h: the private PostgreSQL cluster behind --local.
 *
 * It lives under $XDG_DATA_HOME/datashell/ (default ~/.local/share/datashell/), is
 * created on first use with the system's initdb and pg_ctl, and listens on a Unix
 * socket in that directory only. Run as root, the server runs as the postgres system
 * user, since PostgreSQL refuses to run as root.
 */
#ifndef DS_LOCAL_H
#define DS_LOCAL_H

#include "error.h"

struct ds_local {
	char *dir;     /* $XDG_DATA_HOME/datashell */
	char *datadir; /* dir/pgdata */
	char *sockdir; /* dir/run: the server's socket */
	char *logfile; /* dir/log/server.log */
	char *user;    /* the system user the server runs as, also its superuser */
};

enum ds_local_state { DS_LOCAL_ABSENT, DS_LOCAL_STOPPED, DS_LOCAL_RUNNING };

/* Progress for slow steps (initdb takes seconds); msg is a full sentence. */
typedef void (*ds_progress_fn)(void *ctx, const char *msg);

/* Work out the paths from the environment. Release with ds_local_release(). */
int ds_local_init(struct ds_local *l, struct ds_error *err);
void ds_local_release(struct ds_local *l);

int ds_local_state(const struct ds_local *l, enum ds_local_state *state, struct ds_error *err);

/* Create the cluster if needed and start it if stopped; *created says if it was new. */
int ds_local_start(const struct ds_local *l, ds_progress_fn progress, void *ctx, int *created,
		   struct ds_error *err);

/* Stop the server (fast shutdown: sessions are disconnected, work rolls back). */
int ds_local_stop(const struct ds_local *l, struct ds_error *err);

/* The port the private server uses; it names its socket file in sockdir. */
const char *ds_local_port(void);

#endif
