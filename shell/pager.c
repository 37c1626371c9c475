/*
 * pager.c: where a result goes. On a terminal, output is fitted to the terminal's
 * width (unless --wide, --json or --csv), and output taller than the screen goes
 * through the pager, as psql does: $DATASHELL_PAGER, else $PAGER, else "less -FRX";
 * either set to the empty string prints straight to the terminal. Elsewhere (a file,
 * a pipe) it is printed as it is.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "render.h"
#include "shell.h"

/* The pager's command, or NULL when paging is turned off. */
static const char *pager_command(void)
{
	const char *p = getenv("DATASHELL_PAGER");

	if (!p)
		p = getenv("PAGER");
	if (!p)
		p = "less -FRX";
	return p[strspn(p, " \t")] ? p : NULL;
}

static int screen_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return 24;
	return ws.ws_row;
}

int ds_shell_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long n;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (env && env[0] && (n = strtol(env, &end, 10)) > 0 && !*end && n < 100000)
		return (int)n;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return 0;
	return ws.ws_col;
}

static int count_lines(const char *text, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

/*
 * Write text through the pager. The pager owns the terminal meanwhile: Ctrl-C is
 * its to handle, and a pager quit early must not kill the shell with SIGPIPE.
 */
static int page(const char *command, const char *text, size_t len)
{
	struct sigaction ignore, old_int, old_pipe;
	FILE *p;
	int rc;

	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	sigemptyset(&ignore.sa_mask);
	fflush(stdout);
	p = popen(command, "w");
	if (!p)
		return -1;
	sigaction(SIGINT, &ignore, &old_int);
	sigaction(SIGPIPE, &ignore, &old_pipe);
	fwrite(text, 1, len, p);
	rc = pclose(p);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGINT, &old_int, NULL);
	return rc == -1 ? -1 : 0;
}

void ds_shell_print(const struct ds_result *r)
{
	const char *command = pager_command();
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	ds_render_set_width(r->wide || r->json || r->csv ? 0 : ds_shell_width());
	if (!command || !isatty(STDOUT_FILENO) || !(mem = open_memstream(&text, &len))) {
		ds_render_result(stdout, r);
		return;
	}
	ds_render_result(mem, r);
	fclose(mem);
	if (count_lines(text, len) < screen_rows() || page(command, text, len) < 0) {
		fwrite(text, 1, len, stdout);
		fflush(stdout);
	}
	free(text);
}
