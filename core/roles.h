/*
 * roles.h: who may do what. Three NOLOGIN roles that a DBA grants to people, each with
 * the privileges of the one before it and more; the grants on the state schema enforce
 * them in the database itself.
 */
#ifndef DS_ROLES_H
#define DS_ROLES_H

#include "db.h"

#define DS_ROLE_VIEWER	 "datashell_viewer"   /* reads: status, log, alerts, metrics */
#define DS_ROLE_OPERATOR "datashell_operator" /* also runs: backfill, cancel, workers */
#define DS_ROLE_ADMIN	 "datashell_admin"    /* also definitions: pipeline load, pause */

/*
 * Create the roles that do not exist yet, make each a member of the one before it, and
 * make the state schema's grants to them exactly those of the list in roles.c. Runs in
 * the caller's transaction, as the schema's owner.
 */
int ds_roles_apply(struct ds_db *db, struct ds_error *err);

/*
 * A fingerprint of the roles, their memberships and the schema's grants, so that init
 * can tell whether it changed anything. Caller frees.
 */
char *ds_roles_fingerprint(struct ds_db *db, struct ds_error *err);

#endif
