/*
 * store.h: the state store's schema. Its tables are created and upgraded by numbered
 * migrations, its functions, triggers and grants are the current definitions, which
 * init re-applies; both ship inside the binary (core/sql.h).
 */
#ifndef DS_STORE_H
#define DS_STORE_H

#include "audit.h"
#include "db.h"

struct ds_migration {
	int version;
	const char *name;
	const char *sql; /* runs with search_path set to the state schema */
};

/* Where the schema stands against this binary. */
enum ds_schema_state {
	DS_SCHEMA_MISSING, /* no such schema */
	DS_SCHEMA_OLDER,   /* migrations are pending */
	DS_SCHEMA_CURRENT, /* its tables are; see definitions_current for the rest */
	DS_SCHEMA_NEWER,   /* written by a newer datashell */
};

struct ds_schema_info {
	enum ds_schema_state state;
	int version;		 /* applied; 0 when missing */
	int latest;		 /* what this binary knows */
	int exists;		 /* the schema exists, datashell tables or not */
	int definitions_current; /* init applied this binary's definitions */
};

/* The latest migration this binary carries. */
int ds_store_latest_version(void);

/* The name of migration version, or NULL if this binary has none by that number. */
const char *ds_store_migration_name(int version);

/* Read where the schema stands. */
int ds_store_inspect(struct ds_db *db, struct ds_schema_info *info, struct ds_error *err);

/*
 * Succeed only if the schema is current; otherwise fill err with what is wrong and the
 * command that fixes it.
 */
int ds_store_require_current(struct ds_db *db, struct ds_error *err);

/* What init did (or, with dry_run, would do). */
struct ds_init_report {
	int created; /* the schema did not exist before */
	int from_version;
	int to_version;
	int applied[64]; /* versions applied, in order */
	int napplied;
	int grants_changed;	 /* the roles or the grants to them were not as they should be */
	int definitions_updated; /* an existing schema's functions were not this binary's */
};

/*
 * Create the schema or bring its tables up to date, create the roles (core/roles.h),
 * then re-apply the definitions (functions, triggers, grants), in one transaction under
 * an advisory lock, so that two shells
 * running init at once are safe. If that changed anything it is recorded in the audit
 * log through audit (which may be NULL); if not, audit is marked unchanged. With
 * dry_run nothing changes and the report says what migrations would be applied.
 */
int ds_store_init(struct ds_db *db, struct ds_audit *audit, int dry_run,
		  struct ds_init_report *report, struct ds_error *err);

#endif
