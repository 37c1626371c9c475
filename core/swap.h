/*
 * swap.h: rebuilding a production table through a shadow copy (the swap-table command).
 *
 * T_backfill is built beside T and validated, and written by T's tasks meanwhile (each
 * run whose target is T writes the incoming table too while the swap is started, checked
 * or rolled back: a SQL body again in the same transaction, a command a second time with
 * DS_TARGET set to it; see execute.c and queue/claim.sql; T_old is not written); then
 * one short transaction renames T to T_old and T_backfill to T, and re-binds what
 * PostgreSQL binds by OID (views,
 * functions with SQL bodies, foreign keys, publications, index and sequence names).
 * Grants, row level security, policies, triggers, comments and a sequence of its own
 * are copied onto the incoming table, and materialized views reading T are built again
 * reading it, before the lock, so the lock is held for catalog changes only. Every step
 * is one transaction that also writes the journal (the table swaps), so a killed shell
 * leaves a state that status explains and the next step resumes or undoes: T always
 * exists and is always complete. From start to finish a statement trigger on each table
 * notes the transactions that write it (swap_writes): one that wrote T alone after the
 * last check would be lost by the swap, which refuses.
 *
 * A swap on a named connection (swap-table --connection) rebuilds a table of that
 * connection's database (a warehouse) the same way; its journal stays in the state store.
 * The two cannot commit together, so the warehouse keeps a copy of the journal's row
 * (core/sql/swap/warehouse_tables.sql, with the write log there), which each step writes
 * in the transaction of its DDL, first; the journal is brought forward from it after that
 * commit, and again by the next command when a shell died between the two.
 *
 * A swap in mode v2 (for tables with many readers) swaps nothing: T_v2 is built beside
 * T and written by the same tasks, as T_backfill is, readers move to T_v2 at their own
 * pace, and finish retires T once nothing reads it and no task writes it (on a
 * connection, what reads it is read from the warehouse's catalog and the tasks are those
 * of that connection). The mode is kept in the journal's timings ({"mode": "v2"}), which
 * has no column of its own for it.
 */
#ifndef DS_SWAP_H
#define DS_SWAP_H

#include <jansson.h>

#include "audit.h"
#include "db.h"
#include "local.h"
#include "runs.h"
#include "sql.h"

/* One swap of the journal. Names are as PostgreSQL stores them (unquoted). */
struct ds_swap {
	long long id;
	char *schema, *table;	       /* T */
	char *shadow, *old;	       /* T_backfill, T_old: in T's schema */
	char *state;		       /* started, checked, swapped, rolled back, finished */
	char *qtable, *qshadow, *qold; /* the same, schema-qualified and quoted */
	int v2;			       /* mode v2: shadow is T_v2 and finish retires T itself */
	char *connection;	       /* the named connection T is on; NULL: the state database */
	struct ds_db *db;	       /* T's database: journal, or &warehouse */
	struct ds_db *journal;	       /* the state store, which holds the journal */
	struct ds_db warehouse;	       /* the session to connection's database, if any */
};

/*
 * The active (not finished) swap of table, a name as SQL writes it: orders,
 * public.orders, "Order Items", in the database of connection (NULL: the state
 * database, db). An unknown table, connection or one with no active swap is an error
 * that names the fix. On a connection, the journal is first brought forward from the
 * warehouse's copy of it. Release with ds_swap_release().
 */
int ds_swap_find(struct ds_db *db, const char *table, const char *connection, struct ds_swap *sw,
		 struct ds_error *err);
void ds_swap_release(struct ds_swap *sw);

/*
 * start: create T_backfill (T_v2 with v2), either like T (same columns, defaults,
 * constraints and indexes) or by running create_sql, which must create it with at
 * least T's columns, and journal the swap, in one transaction (on a connection, one in
 * the warehouse, then one in the journal). With dry_run nothing changes. Returns the swap
 * as JSON (caller frees) or NULL with err filled.
 */
json_t *ds_swap_start(struct ds_db *db, const char *table, const char *connection,
		      const char *create_sql, int v2, int dry_run, struct ds_audit *audit,
		      struct ds_error *err);

/*
 * Every swap (or those of one table, NULL for all; of connection's database, NULL for the
 * state database's, or with no table for all), newest first, with what comes next. The
 * journal is first brought forward from the warehouses' copies: connection's, or with
 * neither table nor connection each one's with swaps not finished (progress says which
 * could not be reached, whose swaps are shown as the journal has them).
 */
json_t *ds_swap_status(struct ds_db *db, const char *table, const char *connection,
		       ds_progress_fn progress, void *ctx, struct ds_error *err);

/*
 * What is bound to the production table and what the swap does with each
 * (core/sql/swap/plan.sql, which says how): rows {phase, ord, kind, name, action,
 * stmt}. phase is "prepare" (copied onto the incoming table before the lock), "build" (the
 * copies of materialized views, built on it before the lock, after prepare), "swap"
 * (inside the locked transaction), "after" (after the commit) or "info" (nothing to do). prod and
 * incoming are the tables' OIDs as text. Reading the definitions (pg_get_expr) takes ACCESS SHARE
 * on the tables, which waits behind a session queued for ACCESS EXCLUSIVE: lock_timeout_ms bounds
 * that wait (0: as long as any reader waits), and a timeout fails with SQLSTATE 55P03.
 */
json_t *ds_swap_plan(struct ds_db *db, const char *prod, const char *incoming, long lock_timeout_ms,
		     struct ds_error *err);

/* The same, in the caller's transaction, which has set an empty search_path. */
json_t *ds_swap_plan_rows(struct ds_db *db, const char *prod, const char *incoming,
			  struct ds_error *err);

/*
 * check: the inventory and the validation of T_backfill against T: row counts (per
 * value of key_column, if not NULL), checksums of the common columns, NOT NULL columns
 * and unique keys. Stores the results in the journal; returns them.
 */
json_t *ds_swap_check(struct ds_swap *sw, const char *key_column, struct ds_audit *audit,
		      struct ds_error *err);

/* Let a failed check no longer block the swap, with the reason why (audited). */
int ds_swap_accept(struct ds_swap *sw, const char *check, const char *reason,
		   struct ds_audit *audit, struct ds_error *err);

struct ds_swap_opts {
	long lock_timeout_ms; /* how long one attempt may wait for the lock */
	long deadline_ms;     /* when to give up retrying */
	int cancel_blockers;  /* cancel the sessions that hold the lock off */
	int lose_writes;      /* rollback: go ahead though writes to T since the swap are lost */
	int dry_run;
	ds_progress_fn progress; /* each failed attempt and its blockers; may be NULL */
	void *progress_ctx;
};

/*
 * swap (forward, from started/checked/rolled back) and rollback (from swapped): copy
 * what the incoming table lacks, then exchange the tables in one transaction bounded by
 * lock_timeout, retried with backoff until the deadline. Under the lock, before
 * anything changes, it refuses if a transaction wrote T but not the incoming table
 * since the last check (since the swap, for a rollback, unless lose_writes): the
 * exchange would lose what it wrote. Returns a report (caller frees): attempts,
 * lock_ms, the plan, the blockers seen; with dry_run, the plan and those writes so far
 * (foreign_writes).
 */
json_t *ds_swap_exchange(struct ds_swap *sw, int rollback, const struct ds_swap_opts *o,
			 struct ds_audit *audit, struct ds_error *err);

/*
 * finish: drop the table the swap retired (T_old after a swap, T_backfill after a
 * rollback), RESTRICT, refusing and listing what still depends on it; before any swap
 * it refuses (that is abandon). keep_s > 0 drops nothing: it records that T_old is kept
 * that many seconds after the swap, and finish refuses to drop it until then. In mode
 * v2 it retires T itself, refusing while anything still reads it or a task still
 * writes it.
 */
json_t *ds_swap_finish(struct ds_swap *sw, long keep_s, int dry_run, struct ds_audit *audit,
		       struct ds_error *err);

/*
 * abandon: give the rebuild up while T is still the production table (any state but
 * swapped; in mode v2, any): drop T_backfill or T_v2, RESTRICT, refusing and listing
 * what depends on it, and end the swap, marked abandoned. T is left as it is; in mode
 * v2 its tasks write T alone again.
 */
json_t *ds_swap_abandon(struct ds_swap *sw, int dry_run, struct ds_audit *audit,
			struct ds_error *err);

/*
 * Shared by the files of swap-table, which depend on each other one way only:
 *
 *   swap_journal.c  the journal: the swaps row of a table, found, read and written;
 *                   status and accept; on a connection, the session to the warehouse
 *                   and the journal brought forward from its copy there, with the
 *                   records of the tables. Calls none of the others.
 *   swap_catalog.c  the plan (what is bound to T, read from the catalog) and running
 *                   its statements. Calls none of the others.
 *   swap_start.c    start: the incoming table and its journal row. Journal, catalog.
 *   swap_check.c    check. Journal, catalog.
 *   swap_tx.c       swap, rollback, finish, abandon. Journal, catalog, lockwatch.c.
 *
 * Their SQL is in core/sql/swap/: journal_*.sql reads or writes the swaps row, check_*
 * is check's, the rest read the catalog or generate the DDL that is run on the tables.
 */

/* swap_journal.c */

/*
 * An existing table given as SQL writes it: a result with one row (nspname, relname,
 * relkind, oid), or NULL with err filled (no such table: a hint says how to write it).
 */
PGresult *ds_swap_resolve_table(struct ds_db *db, const char *table, struct ds_error *err);

/* Fill in sw's quoted, qualified names from its schema, table, shadow and old. */
void ds_swap_fill_names(struct ds_db *db, struct ds_swap *sw);

/*
 * A statement about swap sw in the journal: id is a file of core/sql/swap/ that takes
 * the swap's id as $1, then nextra (at most 3) more parameters as $2...; as ds_db_query().
 */
PGresult *ds_swap_query(struct ds_db *db, const struct ds_swap *sw, enum ds_sql_id id, int nextra,
			const char *const *extra, struct ds_error *err);

/* Run the statements a swap left for after its commit (validating foreign keys). */
int ds_swap_run_pending(struct ds_db *db, struct ds_swap *sw, struct ds_error *err);

/*
 * Where the swap's tables are: sw->db is the state store (db) with no connection, else a
 * session to connection's database, which is given what a swap needs there
 * (core/sql/swap/warehouse_tables.sql and the definitions it uses) if it lacks it, and
 * whose statements Ctrl-C cancels too (ds_db_cancel_also). An unknown connection is an
 * error that names the fix.
 */
int ds_swap_connect(struct ds_db *db, const char *connection, struct ds_swap *sw,
		    struct ds_error *err);

/*
 * The ids of the tasks whose target is T (writing its database), as an SQL array, for
 * ds_swap_move_records; read with the session's search_path. Caller frees.
 */
char *ds_swap_target_tasks(struct ds_swap *sw, struct ds_error *err);

/*
 * The records of the swap's tables (which keys each has, by which run) follow the
 * tables, in the transaction on db that moves or drops them: step is "swap", "rollback"
 * or "end"; tasks (an SQL array) those whose target is T (core/sql/swap/move_records.sql).
 */
int ds_swap_move_records(struct ds_db *db, struct ds_swap *sw, const char *tasks, const char *step,
			 struct ds_error *err);

/*
 * In a step's transaction on T's database, after its journal statement: on the state
 * database, the records move (step as ds_swap_move_records, or NULL) and the audit row is
 * written, in that same transaction. On a connection, nothing: ds_swap_commit() does it
 * in the journal's.
 */
int ds_swap_record(struct ds_swap *sw, const char *step, const char *tasks, struct ds_audit *audit,
		   struct ds_error *err);

/*
 * End a step's transaction on T's database (as ds_db_end with rc). On a connection, once
 * the warehouse has committed, bring the journal forward (ds_swap_forward) with the
 * audit row; runs, when not NULL (abandon), the runs of backfill --into the swap,
 * cancelled there and counted.
 */
int ds_swap_commit(struct ds_swap *sw, int rc, struct ds_cancel_report *runs,
		   struct ds_audit *audit, struct ds_error *err);

/*
 * Bring the journal's row of swap sw->id forward from the warehouse's copy, in a
 * transaction of the journal's that also moves the records the step the journal missed
 * moves (core/sql/swap/journal_forward.sql), cancels runs (as ds_swap_commit) and writes
 * audit's row. Nothing to do with no connection.
 */
int ds_swap_forward(struct ds_swap *sw, struct ds_cancel_report *runs, struct ds_audit *audit,
		    struct ds_error *err);

/* What abandon did to the runs that write T_backfill, for its report and audit row. */
json_t *ds_swap_runs_json(const struct ds_cancel_report *runs);

/*
 * Put the write log (swap_log_write(), core/sql/definitions/80-swaps.sql) on T and on the
 * table beside it where it is missing, in the caller's transaction: from then on each
 * transaction that writes either is noted, so that swap and rollback can tell a write
 * they would lose (one to T alone, after the last check). Mode swap only.
 */
int ds_swap_log_writes(struct ds_db *db, struct ds_swap *sw, struct ds_error *err);

/* swap_catalog.c */

/*
 * In the current transaction, the settings the plan is read and run with: an empty
 * search_path (so that its names are schema-qualified) and lock_timeout and
 * statement_timeout in milliseconds (-1: the session's). With old, the search_path it
 * replaced (caller frees), to put back with ds_swap_restore_search_path().
 */
int ds_swap_settings(struct ds_db *db, long lock_timeout_ms, long statement_timeout_ms, char **old,
		     struct ds_error *err);
int ds_swap_restore_search_path(struct ds_db *db, const char *old, struct ds_error *err);

/*
 * Begin a transaction (begin: "BEGIN", "BEGIN READ ONLY") with ds_swap_settings(). On
 * failure nothing is left open.
 */
int ds_swap_begin(struct ds_db *db, const char *begin, long lock_timeout_ms,
		  long statement_timeout_ms, struct ds_error *err);

/*
 * Run the statements of plan's rows of phase whose ord is in [from, to), in order; a
 * failure's hint quotes the statement.
 */
int ds_swap_run_phase(struct ds_db *db, json_t *plan, const char *phase, int from, int to,
		      struct ds_error *err);

#endif
