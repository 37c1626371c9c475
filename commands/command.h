/*
 * command.h: the command table, the session commands run in, and what they return.
 *
 * One row per command carries everything the rest of datashell needs to know about it:
 * dispatch, the arity check, help, completion and the man-page test all read the same
 * row. Commands return data (a jansson document), never text for a terminal.
 */
#ifndef DS_COMMAND_H
#define DS_COMMAND_H

#include <jansson.h>

#include "../core/complete.h"
#include "../core/db.h"
#include "../core/error.h"
#include "../core/local.h"
#include "../core/roles.h"
#include "../core/runs.h"
#include "../core/store.h"
#include "lib/opt.h"

/* How the session reaches its server, from the command line and environment. */
struct ds_connect_opts {
	const char *conninfo; /* -d: conninfo string or URI, or NULL */
	const char *schema;   /* --schema or DATASHELL_SCHEMA or "datashell" */
	int local;	      /* --local: the private cluster */
};

/*
 * How results print (--json, --csv, --wide): given to the program (datashell --json),
 * for every command of the run; given to a command, for that command.
 */
struct ds_output_opts {
	int json; /* print data, not text */
	int csv;  /* print data's rows as CSV */
	int wide; /* never cut to fit the terminal */
};

struct ds_session {
	struct ds_connect_opts opts;
	struct ds_output_opts output; /* the program's: each command's own take precedence */
	struct ds_db db;	      /* db.conn is NULL until a command needs the server */
	struct ds_error err;	      /* why the last command failed */
	const char *line;	      /* the command line as typed, for the audit log */
	struct ds_audit audit;	      /* the running command's audit row (core/audit.h) */
	const char *role;	      /* the role the running command needs, for a refusal */
	int quit;		      /* set by quit/exit */
	int interactive;	      /* a person at a terminal may answer questions */
	ds_progress_fn progress;      /* notes on slow steps, may be NULL */
	void *progress_ctx;
	/*
	 * Ask the person at the terminal: show `shown` (rendered as a result would be),
	 * then the yes/no question. Returns 1 for yes. NULL when nobody can answer.
	 */
	int (*confirm)(struct ds_session *s, json_t *shown, const char *question);
	struct ds_name_cache *names; /* names tab completion read, see ds_complete_args */
};

/*
 * A command's result. data is the JSON document --json prints (never NULL after a
 * successful command). text, if set, is what a person reads instead of a rendering of
 * data: help pages and one-line confirmations. Both are freed by ds_result_release().
 */
struct ds_result {
	json_t *data;
	char *text;
	int json; /* --json was given: print data, not text */
	int csv;  /* --csv was given: print data's rows as CSV */
	int wide; /* --wide was given: never cut to fit the terminal */
	/*
	 * The command ran and its result is shown, but what it found is a failure (a check
	 * that failed): the session's err says what, and it counts as a failed command
	 * (exit status 3 in a script).
	 */
	int failed;
};

void ds_result_release(struct ds_result *r);

/*
 * A parsed invocation: the command (and its action), its words, and its options: the
 * common ones here, its own in the command's options struct (opts), both filled by
 * the parser.
 */
struct ds_invocation {
	const struct ds_command *cmd;
	const struct ds_action *action; /* of a command with actions, the one named */
	const void *opts;		/* the command's options struct (.opts_size), or NULL */
	char **args; /* the words after the command's name, and after its action's */
	int nargs;
	const struct ds_opt **given; /* the rows of the options given, in order */
	int ngiven;
	int help, json, csv, wide; /* every command takes these */
	int dry_run;		   /* DS_CMD_DRY_RUN: --dry-run */
	int yes;		   /* DS_CMD_DESTRUCTIVE or DS_CMD_ASKS: --yes */
	const char *exclude;	   /* DS_CMD_SELECTS: --exclude, the selectors given joined */
};

enum ds_command_flags {
	DS_CMD_SERVER = 1 << 0,	     /* needs a connection */
	DS_CMD_SCHEMA = 1 << 1,	     /* needs the state schema at this binary's version */
	DS_CMD_WRITES = 1 << 2,	     /* changes state: audited, see core/audit.h */
	DS_CMD_DRY_RUN = 1 << 3,     /* takes --dry-run: shows what it would do, changes nothing */
	DS_CMD_DESTRUCTIVE = 1 << 4, /* can destroy or hide data: asks first, see ds_confirm */
	DS_CMD_ASKS = 1 << 5,	     /* asks first at a terminal when the change is large */
	DS_ACTION_DEFAULT = 1 << 6,  /* of an action: the one run when no action is named */
	DS_CMD_SELECTS = 1 << 7,     /* takes a SELECTOR, and --exclude SELECTOR beside it */
};

typedef int ds_run_fn(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out);

/*
 * One action of a command made of actions ("pipeline load", "breaker reset"): the
 * first word names it. Dispatch, the arity check, help and completion all read this
 * row; the command's row then has no synopsis, arity, options or run of its own, only
 * the size of the options struct its actions' options fill.
 */
struct ds_action {
	const char *name;
	const char *synopsis;	   /* the words after "COMMAND ACTION": "TASK [--dry-run]" */
	const char *summary;	   /* one line, lower case, no full stop */
	const struct ds_opt *opts; /* own options, filling the command's options struct */
	/* options it shares with other actions that differ in the rest, listed first */
	const struct ds_opt *shared_opts;
	const char *complete;	/* what tab completes for its words, as .complete below */
	int min_args, max_args; /* words after the action's name; max -1 for any number */
	unsigned flags;		/* DS_CMD_WRITES, DS_CMD_DRY_RUN, ..., DS_ACTION_DEFAULT */
	const char *role;	/* the least role it needs, if not the command's; or NULL */
	ds_run_fn *run;
};

struct ds_command {
	const char *name;
	const char *group;	   /* what help lists it under: "runs", "pipelines", ... */
	const char *synopsis;	   /* the words after the name: "[COMMAND]"; NULL with actions */
	const char *summary;	   /* one line, lower case, no full stop */
	const char *description;   /* a paragraph for help COMMAND, or NULL */
	const char *example;	   /* one example line, or NULL */
	const struct ds_opt *opts; /* own options, filling the options struct, or NULL */
	size_t opts_size;	   /* the size of the command's options struct */
	const void *opts_defaults; /* what its fields hold when not given, or NULL: zeros */
	const struct ds_action *actions; /* its actions, ending with { NULL }; or NULL */
	const char *complete;		 /* what tab completes for each word, or NULL: see below */
	int min_args, max_args;		 /* words, with no actions; max -1 for any number */
	unsigned flags;			 /* of the command; its actions add their own */
	const char *role; /* the least role that may run it (core/roles.h), or NULL */
	ds_run_fn *run;	  /* NULL with actions */
};

/*
 * .complete says what tab completes after the command's name (or its action's): one
 * word for each position typed (options aside), a kind of word or kinds joined by "|"
 * (a lower-case word stands for itself):
 *   COMMAND   command names           TASK    task names
 *   GRAPH     graph names             BATCH   the latest batch ids, newest first
 *   SELECTOR  task, +task, task+, graph:NAME, after the last comma or &
 *   KEY       today, yesterday, this month and its dates (RANGE is the same)
 *   TABLE     tables of the warehouse from the catalog, the state schema's aside
 *   ALERT     the ids of the latest alerts not resolved
 *   KIND      the kinds of alert; STATE: open, acked, resolved
 *   FILE      file names, as the shell completes them (PATH is the same)
 * A last word that ends in "..." ("ALERT...") completes every word from there on.
 * Examples: "BATCH|SELECTOR KEY" (cancel), "TABLE" (each action of swap-table). The
 * first word of a command with actions completes as their names. The value of an
 * option completes by the name of its argument when that is one of these kinds:
 * DS_OPT_STRING("graph", ..., "GRAPH", ...). Names are read from the server only when
 * connected, with a short timeout, and kept for a few seconds per session.
 */

/* How the shell is to offer the candidates of ds_complete_args(): bits of *how. */
enum {
	/*
	 * In the order given, not sorted: batch ids newest first, so that the batch an
	 * on-call person just made is the first offered (1, 12, 3 sorted as text helped
	 * nobody).
	 */
	DS_COMPLETE_IN_ORDER = 1,
	/* File names go here: the shell completes them itself (readline's own completion). */
	DS_COMPLETE_FILES = 2,
};

/*
 * The candidates for the word being typed (text), the words after the command's name
 * that come before it being words[0..nwords), and in *how (DS_COMPLETE_* bits) how
 * to offer them. NULL-terminated, never NULL; the shell keeps those that start with
 * text. Caller frees with ds_names_free().
 */
char **ds_complete_args(struct ds_session *s, const struct ds_command *cmd, int nwords,
			char **words, const char *text, int *how);

/* Drop the names completion keeps: after a command that writes, and at the end. */
void ds_complete_forget(struct ds_session *s);

/*
 * The command table, NULL-terminated. Each command's row is defined in its own file
 * (commands/NAME.c) and listed once in commands/table.c.
 */
extern const struct ds_command *const ds_commands[];

/* The command called name (aliases included), or NULL. */
const struct ds_command *ds_command_find(const char *name);

/* Fill err: no command called name, with the closest one if any; returns -1. */
int ds_command_unknown(const char *name, struct ds_error *err);

/* The flags of a command and of all its actions. */
unsigned ds_command_flags(const struct ds_command *cmd);

/* The flags of what the invocation runs: the command's, and its action's. */
unsigned ds_invocation_flags(const struct ds_invocation *inv);

/*
 * The option tables of a command, in the order help lists them: the common options
 * that apply to it, then its own (for a command with actions, each action's once);
 * or, given an action, only the tables of that action. Into sets (room for
 * DS_OPT_SETS_MAX). The common rows fill inv and the others own; both may be NULL
 * when only listing. Returns how many sets.
 */
#define DS_OPT_SETS_MAX 16
int ds_command_opt_sets(const struct ds_command *cmd, const struct ds_action *action,
			struct ds_invocation *inv, void *own, struct ds_opt_set *sets);

/*
 * The words after a command's name, for help and usage hints: its synopsis, or of a
 * command with actions their names, "start|stop|status", and " ..." when they take
 * more. Caller frees.
 */
char *ds_command_synopsis(const struct ds_command *cmd);

/*
 * Run one command line, already split into words. On failure s->err says why and out
 * holds nothing. The caller renders out and then releases it; with out->failed set, it
 * then reports s->err as for a failure.
 */
int ds_dispatch(struct ds_session *s, int argc, char **argv, struct ds_result *out);

/*
 * Commands that can destroy or hide data (cancel, swap, rollback, dropping a table,
 * resetting a breaker) follow one pattern, so that a person at a terminal sees what
 * will happen and a script never does it by accident:
 *
 *   1. work out exactly what will happen, changing nothing (the same statements
 *      rolled back, or a read), as data: `shown`, and one line: `what`
 *      ("cancel 3 queued runs and stop 1 running run of batch 42");
 *   2. with --dry-run, return `shown` as the result and stop there;
 *   3. rc = ds_confirm(s, inv, shown, what, out): 1 go ahead; 0 the person said no,
 *      out holds the declined result, return 0; -1 a script without --yes, s->err
 *      says so and the command fails (exit 3 in a script), having changed nothing;
 *   4. do it, and return what was done.
 * Step 1 may be left out when --yes is given without --dry-run and working it out
 * costs as much as doing it (cancel, over a batch of many runs).
 *
 * Such a command sets DS_CMD_DESTRUCTIVE and DS_CMD_DRY_RUN in its row, which give it
 * --yes and --dry-run (help --json shows the flags). A command that only asks before
 * a large change (backfill) sets DS_CMD_ASKS instead: it asks in the same way, but
 * when nobody can answer, it goes ahead.
 *
 * ds_confirm returns 1 at once with --yes or --dry-run; at a terminal it shows `shown` (NULL: show
 * nothing) and asks "WHAT? [y/N]" through s->confirm (Ctrl-C answers no). Declined,
 * the result is {"confirmed": false, "would": shown} and the text "nothing changed:
 * did not WHAT", and the audit log has nothing to record.
 */
int ds_confirm(struct ds_session *s, const struct ds_invocation *inv, json_t *shown,
	       const char *what, struct ds_result *out);

/*
 * How many runs a command that asks before a large change (DS_CMD_ASKS) may enqueue, or
 * let the schedule enqueue, without asking: backfill, pipeline load.
 */
#define DS_CONFIRM_ABOVE 1000

/* Connect if not connected yet (starting the private cluster for --local). */
int ds_session_connect(struct ds_session *s);
void ds_session_release(struct ds_session *s);

/*
 * --reconnect-timeout DURATION: 0, or a duration as other options take them ("30s",
 * "5m"), at most a week, in *seconds; -1 with a usage error otherwise.
 */
int ds_reconnect_timeout(const char *text, int *seconds, struct ds_error *err);

/* --reconnect-timeout's default, for the worker and for --wait. */
#define DS_RECONNECT_TIMEOUT "5m"

/*
 * --wait: poll batch until none of its runs is queued, running or held, and return its
 * status (ds_batch_status) or NULL with s->err set (Ctrl-C stops the waiting, not the
 * runs). At a terminal it shows progress through s->progress; a script stays quiet.
 * When the server is lost (restarted, or failed over), it reconnects for up to
 * reconnect_s seconds, then goes on waiting.
 */
json_t *ds_wait_batch(struct ds_session *s, long long batch, int reconnect_s);

/* The runs of a batch's status that did not succeed: failed, blocked, cancelled. */
int ds_batch_failures(json_t *status);

/*
 * --wait for a command that enqueued batch: wait, put the batch's final status in
 * data as "result", and fail (s->err says how many) if a run did not succeed.
 */
int ds_wait_for(struct ds_session *s, long long batch, int reconnect_s, json_t *data);

/*
 * COMMAND --help: its help page in out->text and the same as data for --json:
 * {"command", "synopsis", "summary", "options", "writes", "destructive", and for a
 * command with actions "actions"}.
 */
void ds_command_help_result(const struct ds_command *cmd, struct ds_result *out);

#endif
