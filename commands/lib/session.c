/* session.c: connecting a session to its server when a command first needs one. */
#include <stdlib.h>

#include "../command.h"

int ds_session_connect(struct ds_session *s)
{
	struct ds_conn_target target = { .conninfo = s->opts.conninfo };
	struct ds_local local;
	int created, rc;

	if (ds_db_connected(&s->db))
		return 0;
	/* A connection that was lost is replaced by a new one. */
	ds_db_release(&s->db);
	if (!s->opts.local)
		return ds_db_connect(&s->db, &target, s->opts.schema, &s->err);

	if (ds_local_init(&local, &s->err) < 0)
		return -1;
	if (ds_local_start(&local, s->progress, s->progress_ctx, &created, &s->err) < 0) {
		ds_local_release(&local);
		return -1;
	}
	target.host = local.sockdir;
	target.port = ds_local_port();
	target.user = local.user;
	/* -d may still name another database of the private cluster. */
	if (!s->opts.conninfo)
		target.dbname = "postgres";
	rc = ds_db_connect(&s->db, &target, s->opts.schema, &s->err);
	ds_local_release(&local);
	return rc;
}

void ds_session_release(struct ds_session *s)
{
	ds_complete_forget(s);
	ds_db_release(&s->db);
}
