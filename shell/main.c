/*
 * main.c: datashell's entry point. Reads the command line, picks the mode (interactive
 * at a terminal, batch otherwise) and maps what happened to psql's exit codes.
 */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/key.h"
#include "../core/util.h"
#include "render.h"
#include "script.h"
#include "shell.h"

#ifndef DS_VERSION
#define DS_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_CONNECTION = 2, EXIT_SCRIPT = 3 };

/* A -c command or a -f file, run in the order given. */
struct source {
	int is_file;
	const char *text;
};

struct options {
	struct ds_connect_opts conn;
	struct ds_output_opts output;
	struct source *sources;
	int nsources;
	int keep_going;
	int echo;
};

static void usage(FILE *out)
{
	fputs("datashell: a maintenance shell for data pipelines kept in PostgreSQL\n"
	      "\n"
	      "usage: datashell [OPTION]... [-c COMMAND]... [-f FILE]...\n"
	      "\n"
	      "Interactive when standard input is a terminal; otherwise it runs one command\n"
	      "per line from standard input, the -f files and the -c commands.\n"
	      "\n"
	      "options:\n"
	      "  -d, --dbname=CONNINFO   server to use: a database name, conninfo string or URI\n"
	      "                          (PG* variables, ~/.pgpass and service files also work)\n"
	      "      --local             use the private server under $XDG_DATA_HOME/datashell\n"
	      "      --schema=NAME       state schema (default $DATASHELL_SCHEMA or 'datashell')\n"
	      "  -c, --command=COMMAND   run COMMAND (may be repeated)\n"
	      "  -f, --file=FILE         run the commands in FILE, - for stdin (may be repeated)\n"
	      "      --keep-going        in a script, run the rest after a failing command\n"
	      "  -e, --echo              print each command before running it\n"
	      "      --json              print every command's result as JSON\n"
	      "      --csv               print every command's rows as CSV\n"
	      "      --wide              never cut output to fit the terminal\n"
	      "  -V, --version           print the version and exit\n"
	      "  -h, --help              print this help and exit\n"
	      "\n"
	      "'datashell -c help' lists the commands. Exit status: 0 success, 1 usage or\n"
	      "fatal error, 2 connection lost, 3 a script command failed.\n",
	      out);
}

/* A setting of the environment that no command could use is said once, before any runs. */
static int check_environment(void)
{
	struct ds_error err = { 0 };

	if (ds_range_now_check(&err) == 0)
		return 0;
	fprintf(stderr, "datashell: %s\n", err.message);
	return -1;
}

/*
 * The options after -c COMMAND are the program's, as psql's are ("datashell -c status
 * --json" prints every command as JSON); a command's own options go inside its
 * quotes. Say so when one of them was refused.
 */
static void hint_command_option(const struct options *o, const char *word)
{
	char *command, *option;

	if (!o->nsources || o->sources[o->nsources - 1].is_file || word[0] != '-')
		return;
	command = ds_redact_secrets(o->sources[o->nsources - 1].text);
	option = ds_redact_secrets(word);
	fprintf(stderr,
		"hint: a command's own options go inside the quotes of -c: "
		"datashell -c '%s %s'\n",
		command, option);
	free(command);
	free(option);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dbname", required_argument, NULL, 'd' },
		{ "local", no_argument, NULL, 'L' },
		{ "schema", required_argument, NULL, 'S' },
		{ "command", required_argument, NULL, 'c' },
		{ "file", required_argument, NULL, 'f' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "echo", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'J' },
		{ "csv", no_argument, NULL, 'C' },
		{ "wide", no_argument, NULL, 'W' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->sources = ds_xmalloc((size_t)argc * sizeof(*o->sources));
	while ((c = getopt_long(argc, argv, "d:c:f:eVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->conn.conninfo = optarg;
			break;
		case 'L':
			o->conn.local = 1;
			break;
		case 'S':
			o->conn.schema = optarg;
			break;
		case 'c':
		case 'f':
			o->sources[o->nsources].is_file = c == 'f';
			o->sources[o->nsources++].text = optarg;
			break;
		case 'k':
			o->keep_going = 1;
			break;
		case 'e':
			o->echo = 1;
			break;
		case 'J':
			o->output.json = 1;
			break;
		case 'C':
			o->output.csv = 1;
			break;
		case 'W':
			o->output.wide = 1;
			break;
		case 'V':
			printf("datashell %s\n", DS_VERSION);
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			hint_command_option(o, argv[optind - 1]);
			fputs("Try 'datashell --help' for more information.\n", stderr);
			return -1;
		}
	}
	if (o->output.json && o->output.csv) {
		fputs("datashell: --json or --csv, not both\n", stderr);
		return -1;
	}
	if (optind < argc) {
		char *shown = ds_redact_secrets(argv[optind]);

		fprintf(stderr,
			"datashell: unexpected argument '%s'\n"
			"hint: quote a command and pass it with -c, e.g. datashell -c '%s'\n",
			shown, shown);
		free(shown);
		return -1;
	}
	if (!o->conn.schema)
		o->conn.schema = getenv("DATASHELL_SCHEMA");
	if (!o->conn.schema || !o->conn.schema[0])
		o->conn.schema = "datashell";
	return check_environment();
}

/* One write per line: a busy worker reports two lines a run on unbuffered stderr. */
static void print_progress(void *ctx, const char *msg)
{
	char *line = ds_xprintf("datashell: %s\n", msg);

	(void)ctx;
	fputs(line, stderr);
	free(line);
}

/*
 * In a script, Ctrl-C cancels the statement running, as at the prompt, and stops the
 * script (exit status 3); a second Ctrl-C ends datashell at once.
 */
static volatile sig_atomic_t script_interrupts;

static void on_script_sigint(int sig)
{
	if (script_interrupts++) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	ds_db_cancel_running();
}

static void catch_script_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_script_sigint;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* After Ctrl-C nothing more of the script runs. */
static int stop_if_interrupted(int *stop)
{
	if (!script_interrupts)
		return 0;
	fputs("datashell: interrupted; the rest of the script was not run\n", stderr);
	*stop = 1;
	return EXIT_SCRIPT;
}

/*
 * Run every command of one script. Returns EXIT_OK, EXIT_SCRIPT (a command failed) or
 * EXIT_CONNECTION; *stop is set when the run must not go on to further scripts.
 */
static int run_script(struct ds_session *s, struct ds_script *sc, const struct options *o,
		      int *stop)
{
	int rc = EXIT_OK, first;
	char *line;

	while (!*stop && ds_script_next(sc, &line, &first)) {
		struct ds_where where = { sc->name, first };

		if (stop_if_interrupted(stop)) {
			free(line);
			return EXIT_SCRIPT;
		}
		if (o->echo) {
			char *shown = ds_redact_secrets(line);

			printf("%s\n", shown);
			fflush(stdout);
			free(shown);
		}
		ds_db_clear_interrupt();
		if (ds_shell_run_line(s, line, &where) < 0) {
			if (s->err.kind == DS_ERR_CONNECTION) {
				rc = EXIT_CONNECTION;
				*stop = 1;
			} else {
				rc = EXIT_SCRIPT;
				*stop = !o->keep_going;
			}
		}
		free(line);
		if (s->quit)
			*stop = 1;
		if (stop_if_interrupted(stop))
			rc = EXIT_SCRIPT;
	}
	return rc;
}

static int worse(int a, int b)
{
	return a == EXIT_CONNECTION || b == EXIT_CONNECTION ? EXIT_CONNECTION : a > b ? a : b;
}

static int run_batch(struct ds_session *s, const struct options *o)
{
	int rc = EXIT_OK, stop = 0;

	if (o->nsources == 0) {
		struct ds_script sc = { stdin, "<stdin>", 0 };

		return run_script(s, &sc, o, &stop);
	}
	for (int i = 0; i < o->nsources && !stop; i++) {
		const struct source *src = &o->sources[i];
		struct ds_script sc = { NULL, src->is_file ? src->text : NULL, 0 };

		if (!src->is_file && !src->text[0])
			continue; /* fmemopen refuses an empty buffer; nothing to run anyway */

		if (src->is_file && !strcmp(src->text, "-"))
			sc.f = stdin, sc.name = "<stdin>";
		else if (src->is_file)
			sc.f = fopen(src->text, "r");
		else
			sc.f = fmemopen((void *)src->text, strlen(src->text), "r");
		if (!sc.f) {
			fprintf(stderr, "datashell: cannot open '%s': %m\n", src->text);
			return worse(rc, EXIT_USAGE);
		}
		rc = worse(rc, run_script(s, &sc, o, &stop));
		if (sc.f != stdin)
			fclose(sc.f);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct ds_session s = { 0 };
	int rc;

	setlocale(LC_ALL, "");
	if (parse_args(argc, argv, &o) < 0) {
		free(o.sources);
		return EXIT_USAGE;
	}
	s.opts = o.conn;
	s.output = o.output;
	s.progress = print_progress;
	ds_render_set_colour(ds_colour_wanted(STDOUT_FILENO));
	/* Like psql: a person is there only if both ends are a terminal. */
	if (o.nsources == 0 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		s.interactive = 1;
		rc = ds_repl(&s);
	} else {
		catch_script_sigint();
		rc = run_batch(&s, &o);
	}
	ds_session_release(&s);
	free(o.sources);
	return rc;
}
