/*
 * complete.c: tab completion of command names and each command's options, read from
 * the command table; the words after a command complete as its row declares
 * (ds_complete_args: tasks, selectors, batches, keys, tables, files). Never falls back
 * to file names by accident: only where a row says FILE.
 */
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include "../core/util.h"
#include "lexer.h"
#include "shell.h"

/* The candidates of the current completion, NULL-terminated; the generator walks them. */
static char **candidates;
static int ncandidates;

/* The session whose server the names come from. */
static struct ds_session *session;

void ds_complete_init(struct ds_session *s)
{
	session = s;
	/*
	 * A file name that the command line would split or change (a blank, a quote, a
	 * backslash) completes in quotes, as in a POSIX shell: the lexer reads the line as
	 * one. Completion goes on inside a quote opened by hand or by readline.
	 */
	rl_completer_quote_characters = "'\"";
	rl_filename_quote_characters = " \t\n'\"\\#";
}

static void clear_candidates(void)
{
	for (int i = 0; i < ncandidates; i++)
		free(candidates[i]);
	free(candidates);
	candidates = NULL;
	ncandidates = 0;
}

static void add_candidate(char *s)
{
	candidates = ds_xrealloc(candidates, (size_t)(ncandidates + 2) * sizeof(*candidates));
	candidates[ncandidates++] = s;
	candidates[ncandidates] = NULL;
}

static void add_command_names(void)
{
	for (int i = 0; ds_commands[i]; i++)
		add_candidate(ds_xstrdup(ds_commands[i]->name));
}

static void add_options(const struct ds_command *cmd)
{
	struct ds_opt_set sets[DS_OPT_SETS_MAX];
	int nsets = ds_command_opt_sets(cmd, NULL, NULL, NULL, sets);

	for (int t = 0; t < nsets; t++)
		for (const struct ds_opt *o = sets[t].opts; o->name; o++)
			add_candidate(ds_xprintf("--%s", o->name));
}

static char *generate(const char *text, int state)
{
	static int next;
	size_t len = strlen(text);

	if (!state)
		next = 0;
	while (next < ncandidates) {
		const char *c = candidates[next++];

		if (!strncmp(c, text, len))
			return ds_xstrdup(c);
	}
	return NULL;
}

/*
 * Fill the candidates for the word at start, given the words before it; *how says how
 * to offer them (DS_COMPLETE_*).
 */
static void collect(const struct ds_words *before, const char *text, int *how)
{
	const struct ds_command *cmd;
	char **args;

	if (before->n == 0) {
		add_command_names();
		return;
	}
	cmd = ds_command_find(before->v[0]);
	if (!cmd)
		return;
	if (text[0] == '-') {
		add_options(cmd);
		return;
	}
	args = ds_complete_args(session, cmd, before->n - 1, before->v + 1, text, how);
	for (int i = 0; args[i]; i++)
		add_candidate(args[i]);
	free(args);
}

char **ds_complete(const char *text, int start, int end)
{
	char *head = ds_xprintf("%.*s", start, rl_line_buffer);
	struct ds_words before;
	char **matches;
	int how = 0;

	(void)end;
	rl_attempted_completion_over = 1;
	ds_split_partial(head, &before);
	free(head);
	clear_candidates();
	collect(&before, text, &how);
	ds_words_release(&before);
	rl_sort_completion_matches = !(how & DS_COMPLETE_IN_ORDER);
	if (how & DS_COMPLETE_FILES)
		matches = rl_completion_matches(text, rl_filename_completion_function);
	else
		matches = ncandidates ? rl_completion_matches(text, generate) : NULL;
	clear_candidates();
	/* "graph:" is not a whole word yet: no space after it. */
	if (!(how & DS_COMPLETE_FILES) && matches && !matches[1] && matches[0][0] &&
	    strchr(":,", matches[0][strlen(matches[0]) - 1]))
		rl_completion_suppress_append = 1;
	return matches;
}
