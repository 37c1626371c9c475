/*
 * complete.c: what tab completion offers for the words after a command's name, as the
 * command's row declares it (.complete, see command.h): task names, selectors, graph
 * names, batch ids, keys, table names. Names come from the server through
 * core/complete.c and are kept per session for a few seconds, so a burst of tabs costs
 * one short query, and the lists are forgotten after any command that writes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/alerts.h"
#include "../../core/complete.h"
#include "../../core/util.h"
#include "../command.h"
#include "action.h"

/* How long names read from the server are offered before they are read again. */
#define NAMES_TTL_S 10

struct ds_name_cache {
	PGconn *conn; /* the connection the names were read on */
	char **names[DS_NAMES_COUNT];
	double read_at[DS_NAMES_COUNT]; /* ds_monotonic() */
};

void ds_complete_forget(struct ds_session *s)
{
	if (!s->names)
		return;
	for (int k = 0; k < DS_NAMES_COUNT; k++)
		ds_names_free(s->names->names[k]);
	free(s->names);
	s->names = NULL;
}

/*
 * The names of one kind, from the cache or the server; never NULL. Completion never
 * connects: without a connection (or when the read fails) there are no names, and a
 * failed read is not retried before the cache expires, so the prompt stays quick.
 */
static char *const *names_of(struct ds_session *s, enum ds_name_kind kind)
{
	static char *const none[] = { NULL };
	struct ds_error err;

	if (!ds_db_connected(&s->db))
		return none;
	if (s->names && s->names->conn != s->db.conn)
		ds_complete_forget(s);
	if (!s->names) {
		s->names = calloc(1, sizeof(*s->names));
		if (!s->names)
			return none;
		s->names->conn = s->db.conn;
	}
	if (s->names->names[kind] && ds_monotonic() - s->names->read_at[kind] < NAMES_TTL_S)
		return s->names->names[kind];
	ds_names_free(s->names->names[kind]);
	s->names->names[kind] = ds_complete_names(&s->db, kind, &err);
	if (!s->names->names[kind])
		s->names->names[kind] = calloc(1, sizeof(char *));
	s->names->read_at[kind] = ds_monotonic();
	return s->names->names[kind] ? s->names->names[kind] : none;
}

/* The candidates being gathered, NULL-terminated, and how to offer them. */
struct list {
	char **v;
	int n;
	int how; /* DS_COMPLETE_* */
};

static void add(struct list *l, char *s)
{
	l->v = ds_xrealloc(l->v, (size_t)(l->n + 2) * sizeof(*l->v));
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static void add_names(struct list *l, const char *prefix, char *const *names)
{
	for (int i = 0; names[i]; i++)
		add(l, ds_xprintf("%s%s", prefix, names[i]));
}

/* The part of a selector being typed: after its last comma (union) or & (intersection). */
static const char *last_term(const char *text)
{
	const char *part = text;

	for (const char *p = text; *p; p++)
		if (*p == ',' || *p == '&')
			part = p + 1;
	return part;
}

/*
 * A selector: after its last comma or &, a task, +task, task+ (once the task is typed
 * in full) or graph:NAME.
 */
static void add_selector(struct ds_session *s, struct list *l, const char *text)
{
	const char *part = last_term(text);
	char *head = ds_xprintf("%.*s", (int)(part - text), text), *with;
	char *const *tasks = names_of(s, DS_NAMES_TASKS);

	if (!strncmp(part, "graph:", 6)) {
		with = ds_xprintf("%sgraph:", head);
		add_names(l, with, names_of(s, DS_NAMES_GRAPHS));
		free(with);
	} else if (part[0] == '+') {
		with = ds_xprintf("%s+", head);
		add_names(l, with, tasks);
		free(with);
	} else {
		add_names(l, head, tasks);
		add(l, ds_xprintf("%sgraph:", head));
		for (int i = 0; tasks[i]; i++)
			if (!strcmp(tasks[i], part))
				add(l, ds_xprintf("%s%s+", head, part));
	}
	free(head);
}

/*
 * Keys that are due, or nearly: yesterday, the 31 dates before it, this month and the
 * month before (local time, as ranges read them). Never today, nor a later date: keys
 * are due once their period has ended (backfill cuts a month at its last due key).
 */
static void add_keys(struct list *l)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	add(l, ds_xstrdup("yesterday"));
	add(l, ds_xprintf("%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1));
	add(l, ds_xprintf("%04d-%02d", tm.tm_year + 1900 - (tm.tm_mon == 0),
			  tm.tm_mon == 0 ? 12 : tm.tm_mon));
	for (int d = 1; d <= 32; d++) {
		localtime_r(&now, &tm);
		tm.tm_mday -= d; /* mktime brings day 0 and below into the months before */
		tm.tm_hour = 12; /* away from the hour a change of the clocks skips */
		tm.tm_isdst = -1;
		mktime(&tm);
		add(l, ds_xprintf("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
	}
}

static void add_commands(struct list *l)
{
	for (int i = 0; ds_commands[i]; i++)
		add(l, ds_xstrdup(ds_commands[i]->name));
}

/* The candidates of one kind of word: "TASK", "SELECTOR"... (see command.h). */
static void add_kind(struct ds_session *s, struct list *l, const char *kind, size_t len,
		     const char *text)
{
	static const struct {
		const char *kind;
		enum ds_name_kind names;
	} from_server[] = {
		{ "TASK", DS_NAMES_TASKS },    { "GRAPH", DS_NAMES_GRAPHS },
		{ "BATCH", DS_NAMES_BATCHES }, { "TABLE", DS_NAMES_TABLES },
		{ "ALERT", DS_NAMES_ALERTS },
	};
	static const char *const states[] = { "open", "acked", "resolved", NULL };

#define IS(k) (len == strlen(k) && !strncmp(kind, (k), len))
	for (size_t i = 0; i < sizeof(from_server) / sizeof(from_server[0]); i++)
		if (IS(from_server[i].kind))
			add_names(l, "", names_of(s, from_server[i].names));
	/* The server lists batches newest first (names/batches.sql): keep that order. */
	if (IS("BATCH"))
		l->how |= DS_COMPLETE_IN_ORDER;
	if (IS("FILE") || IS("PATH"))
		l->how |= DS_COMPLETE_FILES;
	else if (IS("SELECTOR"))
		add_selector(s, l, text);
	else if (IS("KEY") || IS("RANGE"))
		add_keys(l);
	else if (IS("COMMAND"))
		add_commands(l);
	else if (IS("KIND"))
		add_names(l, "", (char *const *)ds_alert_kinds);
	else if (IS("STATE"))
		add_names(l, "", (char *const *)states);
	else if (len && kind[0] >= 'a' && kind[0] <= 'z')
		add(l, ds_xprintf("%.*s", (int)len, kind)); /* a fixed word: --into backfill */
#undef IS
}

/*
 * The word of spec ("BATCH|SELECTOR KEY") at position pos says what to offer; a last
 * word that ends in "..." ("ALERT...") says it for every position from its own on.
 */
static void add_from_spec(struct ds_session *s, struct list *l, const char *spec, int pos,
			  const char *text)
{
	for (int i = 0; *spec; i++) {
		size_t len;
		int repeats;

		spec += strspn(spec, " ");
		len = strcspn(spec, " ");
		repeats = len > 3 && !strncmp(spec + len - 3, "...", 3);
		if (repeats)
			len -= 3;
		if (i == pos || (repeats && i < pos)) {
			/* Alternatives: "BATCH|SELECTOR". */
			for (const char *a = spec; a < spec + len;) {
				size_t alen = strcspn(a, "| ");

				if (alen > (size_t)(spec + len - a))
					alen = (size_t)(spec + len - a); /* "ALERT..." */

				add_kind(s, l, a, alen, text);
				a += alen + (a[alen] == '|');
			}
			return;
		}
		spec += len;
	}
}

/* The option of cmd named by "--name" or "--name=value", or NULL. */
static const struct ds_opt *find_option(const struct ds_command *cmd, const char *word)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, NULL, NULL, sets);

	return ds_opt_find(sets, nsets, word + 2, strcspn(word + 2, "="));
}

/* The first word names an action; the words after it complete as its row says. */
static void add_for_action(struct ds_session *s, struct list *l, const struct ds_command *cmd,
			   char **positional, int npos, const char *text)
{
	const struct ds_action *a;

	if (npos == 0) {
		for (a = cmd->actions; a->name; a++)
			add(l, ds_xstrdup(a->name));
		return;
	}
	a = ds_action_find(cmd, positional[0]);
	if (a && a->complete)
		add_from_spec(s, l, a->complete, npos - 1, text);
}

char **ds_complete_args(struct ds_session *s, const struct ds_command *cmd, int nwords,
			char **words, const char *text, int *how)
{
	char **positional = ds_xmalloc((size_t)(nwords + 1) * sizeof(*positional));
	struct list l = { NULL, 0, 0 };
	int npos = 0;

	for (int i = 0; i < nwords; i++) {
		const struct ds_opt *o;

		if (strncmp(words[i], "--", 2) || !words[i][2]) {
			positional[npos++] = words[i];
			continue;
		}
		o = find_option(cmd, words[i]);
		if (!o || o->type == DS_OPT_T_BOOL || strchr(words[i], '='))
			continue;
		if (i + 1 == nwords) {
			/* The value of an option completes as its argument's name says. */
			if (o->arg)
				add_kind(s, &l, o->arg, strlen(o->arg), text);
			goto done;
		}
		i++;
	}
	if (cmd->actions)
		add_for_action(s, &l, cmd, positional, npos, text);
	else if (cmd->complete)
		add_from_spec(s, &l, cmd->complete, npos, text);
done:
	free(positional);
	*how = l.how;
	if (!l.v)
		l.v = ds_xmalloc(sizeof(*l.v)), l.v[0] = NULL;
	return l.v;
}
