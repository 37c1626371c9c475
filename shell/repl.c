/*
 * repl.c: the interactive shell: readline prompt, persistent history, completion, and
 * Ctrl-C that clears the line instead of killing the shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "../core/util.h"
#include "render.h"
#include "shell.h"

#define HISTORY_LINES 1000

static volatile sig_atomic_t interrupted, running;

/*
 * Ctrl-C while a command runs cancels its statement on the server (the command then
 * fails and the shell goes on); at the prompt it clears the line.
 */
static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
	if (running)
		ds_db_cancel_running();
}

static void clear_line(void)
{
	rl_free_line_state();
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
}

/*
 * readline's input, read so that no Ctrl-C is missed: SIGINT is blocked while
 * readline works and let through only inside pselect(), so a Ctrl-C that arrives
 * between two keys is seen at the next wait instead of being lost until a key comes.
 */
static int read_key(FILE *in)
{
	sigset_t during_wait;
	unsigned char c;
	fd_set fds;

	sigprocmask(SIG_BLOCK, NULL, &during_wait);
	sigdelset(&during_wait, SIGINT);
	for (;;) {
		if (interrupted) {
			interrupted = 0;
			if (running) {
				/* A question asked during a command: Ctrl-C answers no. */
				rl_replace_line("", 0);
				return '\n';
			}
			clear_line();
		}
		FD_ZERO(&fds);
		FD_SET(fileno(in), &fds);
		if (pselect(fileno(in) + 1, &fds, NULL, NULL, NULL, &during_wait) < 0) {
			if (errno == EINTR)
				continue;
			return EOF;
		}
		switch (read(fileno(in), &c, 1)) {
		case 1:
			return c;
		case 0:
			return EOF;
		default:
			if (errno != EINTR)
				return EOF;
		}
	}
}

/* readline() with SIGINT held back except while waiting for a key (see read_key). */
static char *read_line(const char *prompt)
{
	sigset_t block, saved;
	char *line;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &saved);
	line = readline(prompt);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return line;
}

static void install_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	rl_catch_signals = 0;
	rl_getc_function = read_key;
}

/*
 * mkdir -p with the last directory private to the user. The parents (~/.local) get
 * ordinary permissions: the private cluster's server must be able to pass through them.
 */
static int make_private_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* $XDG_STATE_HOME/datashell/history, created mode 0600; NULL if it cannot be. */
static char *open_history(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *dir, *path;
	int fd;

	if (state && state[0] == '/')
		dir = ds_xprintf("%s/datashell", state);
	else if (home && home[0])
		dir = ds_xprintf("%s/.local/state/datashell", home);
	else
		return NULL;
	path = ds_xprintf("%s/history", dir);
	fd = make_private_dirs(dir) < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	free(dir);
	if (fd < 0) {
		fprintf(stderr, "warning: history will not be saved: cannot open '%s': %s\n", path,
			strerror(errno));
		free(path);
		return NULL;
	}
	/* History holds what was typed, connection strings included: keep it private. */
	fchmod(fd, 0600);
	close(fd);
	read_history(path);
	return path;
}

/*
 * Remember a line, unless it starts with a blank: that is how one keeps it out. A
 * password in it is masked first, so it never reaches the history file.
 */
static void remember(const char *line, const char *histfile)
{
	char *shown;

	if (!line[0] || line[0] == ' ' || line[0] == '\t')
		return;
	shown = ds_redact_secrets(line);
	add_history(shown);
	free(shown);
	if (histfile)
		append_history(1, histfile);
}

/* "database/schema> ", or a note that there is no connection yet. Caller frees. */
static char *make_prompt(const struct ds_session *s)
{
	if (ds_db_connected(&s->db))
		return ds_xprintf("%s/%s> ", PQdb(s->db.conn), s->db.schema);
	return ds_xprintf("(not connected)/%s> ", s->opts.schema);
}

/* Show what is about to happen and ask; anything but y or yes is a no. */
static int confirm_at_terminal(struct ds_session *s, json_t *shown, const char *question)
{
	char *prompt = ds_xprintf("%s [y/N] ", question), *answer;
	int yes;

	ds_render_set_width(s->output.wide ? 0 : ds_shell_width());
	/* A string is text to show as it is (a load's changes and their diffs). */
	if (json_is_string(shown))
		ds_render_text(stdout, json_string_value(shown));
	else if (shown)
		ds_render_value(stdout, shown, 0);
	fflush(stdout);
	answer = read_line(prompt);
	free(prompt);
	yes = answer && (!strcasecmp(answer, "y") || !strcasecmp(answer, "yes"));
	free(answer);
	return yes;
}

int ds_repl(struct ds_session *s)
{
	char *histfile, *line;

	rl_readline_name = "datashell";
	rl_attempted_completion_function = ds_complete;
	ds_complete_init(s);
	s->confirm = confirm_at_terminal;
	install_sigint();
	stifle_history(HISTORY_LINES);
	histfile = open_history();

	/* Connect now so the prompt can name the database; a failure is not fatal here. */
	if (ds_session_connect(s) < 0)
		ds_shell_report(&s->err, NULL, NULL);

	while (!s->quit) {
		char *prompt = make_prompt(s);

		interrupted = 0;
		line = read_line(prompt);
		free(prompt);
		if (!line) {
			putchar('\n'); /* Ctrl-D: leave on a fresh line */
			break;
		}
		remember(line, histfile);
		ds_db_clear_interrupt();
		running = 1;
		ds_shell_run_line(s, line, NULL);
		running = 0;
		free(line);
	}
	if (histfile)
		history_truncate_file(histfile, HISTORY_LINES);
	free(histfile);
	clear_history();
	return 0;
}
