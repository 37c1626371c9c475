/*
 * ptyrun - drive an interactive program through a pseudo-terminal, expect-style.
 *
 * The shell tests use this to exercise datashell's readline REPL (prompt, history, tab
 * completion, Ctrl-C) without depending on tmux, expect or python.  The whole script is read
 * first, then PROGRAM is started on a fresh pty, 80x24 unless -w says how wide, and the steps
 * run in order; the first failing step ends the run with a diagnostic and the child is killed.
 *
 * Usage: ptyrun [-t SECONDS] [-v] [-w COLUMNS] [-s SCRIPT] -- PROGRAM [ARGS...]
 *
 * Script lines (leading blanks ignored, blank lines and '#' comments skipped):
 *	send STRING	write STRING (escapes: \t \r \n \\ \e \a \b \xHH)
 *	sendline STRING	the same followed by "\r"
 *	expect REGEX	wait for unconsumed output to match the POSIX ERE; consume through it
 *	expect-not RE	fail if the unconsumed output matches RE; consumes nothing
 *	sleep MS	keep reading output for MS milliseconds
 *	until COMMAND	run /bin/sh -c COMMAND every 50 ms until it exits 0, reading output
 *			meanwhile: a poll for a state outside the terminal, such as a statement
 *			waiting on the server (its output and errors go to /dev/null)
 *	run COMMAND	run /bin/sh -c COMMAND once, reading output meanwhile; it must exit 0
 *	wait CODE	wait for the child to exit and check its exit status
 * Output is matched after stripping terminal escape sequences, NUL and carriage returns.
 * When the script ends the child gets SIGHUP, then SIGKILL after 2 s; whatever is left in its
 * session is killed as well, so no test leaves processes behind.
 *
 * Exit status: 0 all steps passed, 1 a step failed, 2 usage, script or setup error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NSIG
#define NSIG 65
#endif

/* How long to keep reading after the child exited while someone else holds the pty open. */
#define DRAIN_MS 200
/* How often until runs its command. */
#define UNTIL_EVERY_MS 50
/* How long a still-running child gets to react to SIGHUP before it is killed. */
#define HANGUP_GRACE_MS 2000
/* Diagnostics show at most this much of the unmatched output. */
#define DIAG_MAX 2000
/* Bound one pump() so a child that never stops writing cannot starve the timeout checks. */
#define READ_BURST (64 * 1024)

enum op { OP_SEND, OP_EXPECT, OP_EXPECT_NOT, OP_SLEEP, OP_UNTIL, OP_RUN, OP_WAIT };

struct step {
	enum op op;
	int line;
	const char *text; /* the script line, for -v */
	const char *arg;  /* raw argument: the regex, or the undecoded send string */
	char *data;	  /* OP_SEND: decoded bytes */
	size_t len;
	long num; /* OP_SLEEP milliseconds, OP_WAIT exit code */
	regex_t re;
	bool has_re;
	bool multiline; /* the regex might match across a newline */
};

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Escape-sequence stripper states; sequences may be split across reads. */
enum strip_state { ST_TEXT, ST_ESC, ST_ESC_INTER, ST_CSI, ST_STR, ST_STR_ESC };

static struct {
	int64_t timeout_ms;
	double timeout_s;
	bool verbose;
	unsigned short columns; /* the pty's width */

	struct buf script;
	struct step *steps;
	size_t nsteps;

	pid_t pid;
	int master;
	int chld_rd; /* read end of the SIGCHLD self-pipe */
	bool eof;    /* read on the master hit EIO: every slave fd is closed */
	bool exited; /* the child is a zombie (not reaped until cleanup) */
	bool signaled;
	int code; /* exit status or signal number */
	bool core;

	struct buf text; /* stripped output not yet consumed by an expect */
	bool bol;	 /* the consumed text ended at a line start, for '^' */
	enum strip_state strip;
	unsigned long gen; /* bumped whenever text grows, to skip pointless regexec */
	bool tr_bol;	   /* -v transcript is at the start of a line */
} run = { .master = -1, .chld_rd = -1, .bol = true, .tr_bol = true, .columns = 80 };

/* The signal handlers only get to see these. */
static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t chld_wr = -1;

static void finish_child(void);
static void kill_session(void);
static void free_all(void);
static _Noreturn void fail(const struct step *st, bool show, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static _Noreturn void script_error(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Last resort when we cannot go on: do not wait politely, just make sure nothing survives. */
static _Noreturn void die(const char *what)
{
	fprintf(stderr, "ptyrun: %s: %s\n", what, strerror(errno));
	if (run.pid > 0) {
		kill_session();
		while (waitpid(run.pid, NULL, 0) < 0 && errno == EINTR)
			;
		run.pid = 0;
		child_pid = 0;
	}
	free_all();
	exit(2);
}

static void buf_reserve(struct buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	/* Always keep room for a terminating NUL so regexec can run on the buffer directly. */
	if (b->cap && b->cap - b->len > extra)
		return;
	while (cap - b->len <= extra) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			die("buffer");
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p)
		die("realloc");
	b->p = p;
	b->cap = cap;
}

static void put_escaped(FILE *f, unsigned char c)
{
	switch (c) {
	case '\n':
		fputs("\\n", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case 0x1b:
		fputs("\\e", f);
		break;
	default:
		/* Bytes >= 0x80 pass through so UTF-8 prompts stay readable. */
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void tr_newline(void)
{
	if (!run.tr_bol)
		fputc('\n', stderr);
	run.tr_bol = true;
}

static void tr_step(const struct step *st)
{
	if (!run.verbose)
		return;
	tr_newline();
	fprintf(stderr, "> line %d: %s\n", st->line, st->text);
}

/* -v shows raw output (escapes included) so terminal handling problems can be diagnosed. */
static void tr_output(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (run.tr_bol)
			fputs("< ", stderr);
		run.tr_bol = false;
		put_escaped(stderr, (unsigned char)p[i]);
		if (p[i] == '\n')
			tr_newline();
	}
}

static void strip_byte(unsigned char c)
{
again:
	switch (run.strip) {
	case ST_TEXT:
		break;
	case ST_ESC:
		if (c == '[')
			run.strip = ST_CSI;
		else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
			run.strip = ST_STR; /* OSC, DCS, SOS, PM, APC: all end in ST */
		else if (c >= 0x20 && c <= 0x2f)
			run.strip = ST_ESC_INTER; /* e.g. ESC ( B charset selection */
		else if (c != 0x1b)
			run.strip = ST_TEXT;
		return;
	case ST_ESC_INTER:
		if (c == 0x1b)
			run.strip = ST_ESC;
		else if (c < 0x20 || c > 0x2f)
			run.strip = ST_TEXT;
		return;
	case ST_CSI:
		if (c == 0x1b) {
			run.strip = ST_ESC;
			return;
		}
		if (c >= 0x40 && c <= 0x7e) {
			run.strip = ST_TEXT;
			return;
		}
		if (c >= 0x20)
			return;
		/* A C0 control inside a CSI still acts on a real terminal, so keep it. */
		break;
	case ST_STR:
		if (c == 0x07)
			run.strip = ST_TEXT;
		else if (c == 0x1b)
			run.strip = ST_STR_ESC;
		return;
	case ST_STR_ESC:
		if (c == '\\') {
			run.strip = ST_TEXT;
			return;
		}
		/* Not a string terminator: treat it as the start of a new sequence. */
		run.strip = ST_ESC;
		goto again;
	}
	if (c == 0x1b) {
		run.strip = ST_ESC;
		return;
	}
	/* NUL would end the string regexec sees; CR only gets in the way of matching lines. */
	if (c == '\r' || c == '\0')
		return;
	run.text.p[run.text.len++] = (char)c;
}

static void absorb(const char *p, size_t n)
{
	if (run.verbose)
		tr_output(p, n);
	buf_reserve(&run.text, n);
	for (size_t i = 0; i < n; i++)
		strip_byte((unsigned char)p[i]);
	run.text.p[run.text.len] = '\0';
	run.gen++;
}

/*
 * waitid() with WNOWAIT leaves the zombie in place, so its pid, process group id and session
 * id cannot be recycled before kill_session() has used them.
 */
static void check_child(void)
{
	siginfo_t si;

	if (run.exited || run.pid <= 0)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)run.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
		return;
	run.exited = true;
	run.signaled = si.si_code != CLD_EXITED;
	run.core = si.si_code == CLD_DUMPED;
	run.code = si.si_status;
}

static void read_master(void)
{
	char tmp[4096];
	size_t total = 0;

	while (total < READ_BURST) {
		ssize_t n = read(run.master, tmp, sizeof(tmp));

		if (n > 0) {
			absorb(tmp, (size_t)n);
			total += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EIO is how Linux reports that the slave side is closed and drained. */
		if (n < 0 && errno != EIO)
			fprintf(stderr, "ptyrun: read from pty: %s\n", strerror(errno));
		run.eof = true;
		return;
	}
}

/*
 * Wait up to ms for output or a child state change and take in whatever is available.
 * Returns whether the master is writable (only asked for while a send is blocked).
 */
static bool pump(int64_t ms, bool want_out)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	int mi = -1;
	bool writable = false;
	int r;

	pfd[n].fd = run.chld_rd;
	pfd[n].events = POLLIN;
	n++;
	if (!run.eof) {
		mi = (int)n;
		pfd[n].fd = run.master;
		pfd[n].events = POLLIN | (want_out ? POLLOUT : 0);
		n++;
	}
	if (ms < 0)
		ms = 0;
	if (ms > INT_MAX)
		ms = INT_MAX;
	r = poll(pfd, n, (int)ms);
	if (r < 0 && errno != EINTR)
		die("poll");
	if (r > 0) {
		if (pfd[0].revents & POLLIN) {
			char junk[64];

			while (read(run.chld_rd, junk, sizeof(junk)) > 0)
				;
		}
		if (mi >= 0 && (pfd[mi].revents & (POLLIN | POLLHUP | POLLERR)))
			read_master();
		if (mi >= 0 && (pfd[mi].revents & POLLOUT))
			writable = true;
	}
	check_child();
	return writable;
}

static const char *sig_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGHUP, "SIGHUP" },	{ SIGINT, "SIGINT" },	{ SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" },	{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" },	{ SIGFPE, "SIGFPE" },	{ SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "unknown signal";
}

static void describe_exit(char *out, size_t size)
{
	if (!run.signaled)
		snprintf(out, size, "child exited (status %d)", run.code);
	else
		snprintf(out, size, "child killed by signal %d (%s%s)", run.code,
			 sig_name(run.code), run.core ? ", core dumped" : "");
}

static void dump_text(void)
{
	const char *p = run.text.p;
	size_t n = run.text.len, start = 0;

	if (n == 0) {
		fputs("(no output)\n", stderr);
		return;
	}
	if (n > DIAG_MAX) {
		start = n - DIAG_MAX;
		/* Do not start in the middle of a UTF-8 character. */
		while (start < n && ((unsigned char)p[start] & 0xc0) == 0x80)
			start++;
		fprintf(stderr, "[... %zu earlier bytes omitted ...]\n", start);
	}
	for (size_t i = start; i < n; i++) {
		put_escaped(stderr, (unsigned char)p[i]);
		if (p[i] == '\n')
			fputc('\n', stderr);
	}
	if (p[n - 1] != '\n')
		fputc('\n', stderr);
}

/* A step failed: explain, optionally show what the child printed, and never leave it running. */
static void fail(const struct step *st, bool show, const char *fmt, ...)
{
	va_list ap;

	tr_newline();
	fprintf(stderr, "ptyrun: script line %d: ", st->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (show) {
		fputs("; output since last match:\n", stderr);
		dump_text();
	} else {
		fputc('\n', stderr);
	}
	fflush(stderr);
	finish_child();
	free_all();
	exit(1);
}

/*
 * With REG_NEWLINE only these constructs can match a newline.  Any other regex matches within
 * one line, which lets do_expect() skip lines it has already searched instead of rescanning
 * the whole (possibly huge) backlog after every read.  Err on the side of "may span".
 */
static bool may_span_lines(const char *re)
{
	if (strstr(re, "[:space:]") || strstr(re, "[:cntrl:]") || strstr(re, "[.") ||
	    strstr(re, "[="))
		return true;
	for (const char *p = re; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return true;
		if (*p == '\\' && p[1]) {
			p++;
			/* GNU escapes such as \s and \W, and back-references. */
			if (isalnum((unsigned char)*p) || (unsigned char)*p < 0x20)
				return true;
		}
	}
	return false;
}

/* Search the unconsumed text from offset from, which is 0 or the start of a line. */
static bool try_match(const regex_t *re, size_t from, regmatch_t *m)
{
	/* '^' must not match in the middle of a line just because an earlier match ended there. */
	bool bol = from ? true : run.bol;

	if (regexec(re, run.text.p + from, 1, m, bol ? 0 : REG_NOTBOL))
		return false;
	m->rm_so += (regoff_t)from;
	m->rm_eo += (regoff_t)from;
	return true;
}

/* Where the next search for a one-line regex must start: the last, incomplete line. */
static size_t last_line_start(size_t from)
{
	size_t i = run.text.len;

	while (i > from && run.text.p[i - 1] != '\n')
		i--;
	return i;
}

static void consume(size_t end)
{
	if (end == 0)
		return;
	run.bol = run.text.p[end - 1] == '\n';
	memmove(run.text.p, run.text.p + end, run.text.len - end + 1);
	run.text.len -= end;
}

static void do_expect(const struct step *st)
{
	int64_t deadline = now_ms() + run.timeout_ms, drain_until = -1;
	unsigned long tried = 0;
	bool first = true;
	size_t from = 0;
	char why[96];

	for (;;) {
		regmatch_t m;
		int64_t now, until;

		if (first || run.gen != tried) {
			first = false;
			tried = run.gen;
			if (try_match(&st->re, from, &m)) {
				consume((size_t)m.rm_eo);
				return;
			}
			if (!st->multiline)
				from = last_line_start(from);
		}
		now = now_ms();
		if (run.exited) {
			if (run.eof || (drain_until >= 0 && now >= drain_until)) {
				describe_exit(why, sizeof(why));
				fail(st, true, "%s while waiting for /%s/", why, st->arg);
			}
			if (drain_until < 0)
				drain_until = now + DRAIN_MS;
		}
		if (now >= deadline)
			fail(st, true, "timed out after %gs waiting for /%s/", run.timeout_s,
			     st->arg);
		until = deadline;
		if (drain_until >= 0 && drain_until < until)
			until = drain_until;
		pump(until - now, false);
	}
}

static void do_expect_not(const struct step *st)
{
	regmatch_t m;
	unsigned long g;
	int rounds = 0;

	/* Take in everything that has already arrived, but do not wait for more. */
	do {
		g = run.gen;
		pump(0, false);
	} while (g != run.gen && ++rounds < 64);
	if (try_match(&st->re, 0, &m))
		fail(st, true, "output matched /%s/ (expect-not)", st->arg);
}

static void do_send(const struct step *st)
{
	int64_t deadline = now_ms() + run.timeout_ms;
	size_t off = 0;
	char why[96];

	while (off < st->len) {
		ssize_t n;

		if (run.exited || run.eof) {
			if (run.exited)
				describe_exit(why, sizeof(why));
			else
				snprintf(why, sizeof(why), "child closed its terminal");
			fail(st, true, "cannot send: %s", why);
		}
		n = write(run.master, st->data + off, st->len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The child is not reading; keep draining its output so it cannot block. */
			int64_t now = now_ms();

			if (now >= deadline)
				fail(st, true, "timed out after %gs sending: child not reading",
				     run.timeout_s);
			pump(deadline - now, true);
			continue;
		}
		if (n < 0 && errno == EIO) {
			run.eof = true;
			pump(0, false);
			continue;
		}
		fail(st, false, "write to pty: %s", n < 0 ? strerror(errno) : "no progress");
	}
}

static void do_sleep(const struct step *st)
{
	int64_t deadline = now_ms() + st->num, now;

	while ((now = now_ms()) < deadline)
		pump(deadline - now, false);
}

static void reset_child_signals(void);

/*
 * Run /bin/sh -c the step's command in a process group of its own, reading the child's
 * output while it runs. Returns its wait status, or -1 if it was still running at the
 * deadline (then it has been killed with its group).
 */
static int run_command(const struct step *st, int64_t deadline)
{
	int status, fd;
	pid_t pid, r;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		setpgid(0, 0);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		reset_child_signals();
		execl("/bin/sh", "sh", "-c", st->arg, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		int64_t now;

		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		now = now_ms();
		if (now >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		/* The SIGCHLD self-pipe wakes this up as soon as the command ends. */
		pump(deadline - now < UNTIL_EVERY_MS ? deadline - now : UNTIL_EVERY_MS, false);
	}
}

static void do_until(const struct step *st)
{
	int64_t deadline = now_ms() + run.timeout_ms, next, now;

	for (;;) {
		int status = run_command(st, deadline);

		if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
		next = now_ms() + UNTIL_EVERY_MS;
		if (status < 0 || next >= deadline)
			fail(st, true, "timed out after %gs waiting until '%s' succeeds",
			     run.timeout_s, st->arg);
		while ((now = now_ms()) < next)
			pump(next - now, false);
	}
}

static void do_run(const struct step *st)
{
	int status = run_command(st, now_ms() + run.timeout_ms);

	if (status < 0)
		fail(st, true, "'%s' did not end within %gs", st->arg, run.timeout_s);
	if (WIFSIGNALED(status))
		fail(st, true, "'%s' was killed by signal %d", st->arg, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		fail(st, true, "'%s' exited with status %d", st->arg, WEXITSTATUS(status));
}

static void do_wait(const struct step *st)
{
	int64_t deadline = now_ms() + run.timeout_ms, now, drain_until;

	while (!run.exited) {
		now = now_ms();
		if (now >= deadline)
			fail(st, true, "timed out after %gs waiting for exit status %ld",
			     run.timeout_s, st->num);
		pump(deadline - now, false);
	}
	/* Collect the child's last words so later expects can still see them. */
	drain_until = now_ms() + DRAIN_MS;
	while (!run.eof && (now = now_ms()) < drain_until)
		pump(drain_until - now, false);
	if (run.signaled)
		fail(st, true, "child killed by signal %d (%s%s), expected exit status %ld",
		     run.code, sig_name(run.code), run.core ? ", core dumped" : "", st->num);
	if (run.code != st->num)
		fail(st, true, "child exited with status %d, expected %ld", run.code, st->num);
}

/* Session id of a live (not zombie) process per /proc/PID/stat, or -1. */
static pid_t proc_session(const char *pid)
{
	char path[64], buf[512], *p, state;
	int fd, sid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may contain anything, so parse from its closing parenthesis. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %d", &state, &sid) != 2)
		return -1;
	return state == 'Z' || state == 'X' ? -1 : sid;
}

/*
 * SIGKILL the child and everything left in its session.  forkpty() made the child a session
 * leader, so its descendants stay in that session (and often in other process groups, e.g.
 * bash's background jobs) unless they detach on purpose.  This runs while the child is still
 * an unreaped zombie, so neither its process group id nor its session id can be recycled.
 */
static void kill_session(void)
{
	bool found = true;

	kill(-run.pid, SIGKILL);
	if (!run.exited)
		kill(run.pid, SIGKILL);
	/* Repeat in case a member forked while we were scanning. */
	for (int round = 0; found && round < 10; round++) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		found = false;
		if (!d)
			return;
		while ((de = readdir(d))) {
			pid_t pid;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)atoi(de->d_name);
			if (pid == run.pid || proc_session(de->d_name) != run.pid)
				continue;
			if (kill(pid, SIGKILL) == 0)
				found = true;
		}
		closedir(d);
	}
}

/* Give a live child a chance to exit on SIGHUP as it would on a real hangup, then kill it. */
static void finish_child(void)
{
	if (run.pid <= 0)
		return;
	if (!run.exited) {
		int64_t deadline = now_ms() + HANGUP_GRACE_MS, now;

		kill(-run.pid, SIGHUP);
		kill(run.pid, SIGHUP);
		while (!run.exited && (now = now_ms()) < deadline)
			pump(deadline - now, false);
	}
	kill_session();
	while (waitpid(run.pid, NULL, 0) < 0 && errno == EINTR)
		;
	run.pid = 0;
	child_pid = 0;
	if (run.verbose)
		tr_newline();
}

static void free_all(void)
{
	for (size_t i = 0; i < run.nsteps; i++) {
		free(run.steps[i].data);
		if (run.steps[i].has_re)
			regfree(&run.steps[i].re);
	}
	free(run.steps);
	run.steps = NULL;
	run.nsteps = 0;
	free(run.script.p);
	run.script.p = NULL;
	free(run.text.p);
	run.text.p = NULL;
	if (run.master >= 0)
		close(run.master);
	run.master = -1;
	if (run.chld_rd >= 0)
		close(run.chld_rd);
	run.chld_rd = -1;
	if (chld_wr >= 0)
		close(chld_wr);
	chld_wr = -1;
}

static void script_error(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ptyrun: script line %d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	free_all();
	exit(2);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void decode_send(struct step *st, bool newline)
{
	const char *s = st->arg;
	char *out = malloc(strlen(s) + 2);
	size_t n = 0;

	if (!out)
		die("malloc");
	st->data = out;
	while (*s) {
		int hi, lo;

		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 't':
			out[n++] = '\t';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case 'e':
			out[n++] = 0x1b;
			break;
		case 'a':
			out[n++] = 0x07;
			break;
		case 'b':
			out[n++] = 0x08;
			break;
		case 'x':
			hi = hexval(s[1]);
			lo = hi >= 0 ? hexval(s[2]) : -1;
			if (lo < 0)
				script_error(st->line, "\\x needs two hex digits");
			out[n++] = (char)(hi * 16 + lo);
			s += 2;
			break;
		case '\0':
			script_error(st->line, "trailing backslash (write \\\\ for a backslash)");
		default:
			script_error(st->line, "unknown escape '\\%c'", *s);
		}
		s++;
	}
	if (newline)
		out[n++] = '\r';
	st->len = n;
}

static long parse_num(const struct step *st, long min, long max)
{
	const char *s = st->arg;
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == s || *end || errno || v < min || v > max)
		script_error(st->line, "want an integer from %ld to %ld, not '%s'", min, max, s);
	return v;
}

static void read_script(const char *path)
{
	FILE *f = stdin;

	if (path) {
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "ptyrun: %s: %s\n", path, strerror(errno));
			exit(2);
		}
	}
	for (;;) {
		size_t n;

		buf_reserve(&run.script, 4096);
		n = fread(run.script.p + run.script.len, 1, run.script.cap - run.script.len - 1, f);
		run.script.len += n;
		if (n == 0)
			break;
	}
	run.script.p[run.script.len] = '\0';
	if (ferror(f)) {
		fprintf(stderr, "ptyrun: reading script: %s\n", strerror(errno));
		free_all();
		exit(2);
	}
	if (path)
		fclose(f);
}

/* Parse and validate everything up front so script mistakes never leave a half-run test. */
static void parse_script(void)
{
	static const struct {
		const char *name;
		enum op op;
	} ops[] = {
		{ "send", OP_SEND },	 { "sendline", OP_SEND },
		{ "expect", OP_EXPECT }, { "expect-not", OP_EXPECT_NOT },
		{ "sleep", OP_SLEEP },	 { "until", OP_UNTIL },
		{ "run", OP_RUN },	 { "wait", OP_WAIT },
	};
	char *line = run.script.p, *next;
	size_t cap = 0;

	for (int lineno = 1; line; lineno++, line = next) {
		struct step *st;
		size_t dlen, len, i;
		char *p;
		int rc;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		len = strlen(line);
		if (len && line[len - 1] == '\r') /* tolerate CRLF scripts */
			line[len - 1] = '\0';
		p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		dlen = strcspn(p, " \t");
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strlen(ops[i].name) == dlen && !memcmp(ops[i].name, p, dlen))
				break;
		if (i == sizeof(ops) / sizeof(ops[0]))
			script_error(lineno, "unknown directive '%.*s'", (int)dlen, p);

		if (run.nsteps == cap) {
			cap = cap ? cap * 2 : 16;
			st = realloc(run.steps, cap * sizeof(*st));
			if (!st)
				die("realloc");
			run.steps = st;
		}
		st = &run.steps[run.nsteps++];
		memset(st, 0, sizeof(*st));
		st->op = ops[i].op;
		st->line = lineno;
		st->text = p;
		/* The argument starts after exactly one blank; any further blanks are data. */
		st->arg = p[dlen] ? p + dlen + 1 : p + dlen;

		switch (st->op) {
		case OP_SEND:
			decode_send(st, dlen == strlen("sendline"));
			break;
		case OP_EXPECT:
		case OP_EXPECT_NOT:
			if (!*st->arg)
				script_error(lineno, "%.*s needs a regex", (int)dlen, p);
			rc = regcomp(&st->re, st->arg, REG_EXTENDED | REG_NEWLINE);
			if (rc) {
				char msg[256];

				regerror(rc, &st->re, msg, sizeof(msg));
				script_error(lineno, "bad regex /%s/: %s", st->arg, msg);
			}
			st->has_re = true;
			st->multiline = may_span_lines(st->arg);
			break;
		case OP_SLEEP:
			st->num = parse_num(st, 0, 24L * 3600 * 1000);
			break;
		case OP_UNTIL:
		case OP_RUN:
			if (!*st->arg)
				script_error(lineno, "%.*s needs a command", (int)dlen, p);
			break;
		case OP_WAIT:
			st->num = parse_num(st, 0, 255);
			break;
		}
	}
}

static void on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (chld_wr >= 0 && write(chld_wr, "", 1) < 0) {
		/* The pipe is full, so a wakeup is already pending. */
	}
	errno = saved;
}

/* If ptyrun itself is interrupted, the child must not survive it. */
static void on_fatal_signal(int sig)
{
	pid_t pid = child_pid;

	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup_signals(void)
{
	static const int fatal[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGALRM };
	struct sigaction sa, old;
	int fds[2];

	if (pipe(fds) < 0)
		die("pipe");
	for (int i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			die("fcntl");
	}
	run.chld_rd = fds[0];
	chld_wr = fds[1];

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);

	sa.sa_flags = 0;
	sa.sa_handler = on_fatal_signal;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		/* Respect a caller that made us immune (e.g. a background job in a script). */
		if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal[i], &sa, NULL);
	}
	/* A closed stderr must not kill us before we have cleaned up the child. */
	signal(SIGPIPE, SIG_IGN);
}

/* The child must see a normal signal state even if our caller ignored SIGINT, for Ctrl-C tests. */
static void reset_child_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void start_child(char **argv)
{
	struct winsize ws = { .ws_row = 24, .ws_col = run.columns };
	int ep[2], err = 0;
	ssize_t n;
	pid_t pid;

	/* A close-on-exec pipe tells us whether exec worked, so a typo is a setup error. */
	if (pipe(ep) < 0)
		die("pipe");
	if (fcntl(ep[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(ep[1], F_SETFD, FD_CLOEXEC) < 0)
		die("fcntl");
	fflush(NULL);
	pid = forkpty(&run.master, NULL, NULL, &ws);
	if (pid < 0)
		die("forkpty");
	if (pid == 0) {
		close(ep[0]);
		reset_child_signals();
		execvp(argv[0], argv);
		err = errno;
		if (write(ep[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	run.pid = pid;
	child_pid = pid;
	close(ep[1]);
	while ((n = read(ep[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n > 0) {
		fprintf(stderr, "ptyrun: cannot run '%s': %s\n", argv[0], strerror(err));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		run.pid = 0;
		child_pid = 0;
		free_all();
		exit(2);
	}
	if (fcntl(run.master, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(run.master, F_SETFD, FD_CLOEXEC) < 0)
		die("fcntl");
}

static _Noreturn void usage(void)
{
	fputs("usage: ptyrun [-t SECONDS] [-v] [-w COLUMNS] [-s SCRIPT] -- PROGRAM [ARGS...]\n"
	      "  -t SECONDS  timeout for each expect, send and wait (default 10)\n"
	      "  -v          echo a transcript of the child's output to stderr\n"
	      "  -w COLUMNS  the terminal's width (default 80)\n"
	      "  -s SCRIPT   read the script from SCRIPT instead of stdin\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *script_path = NULL;
	int opt;

	run.timeout_s = 10;
	/* '+' stops at PROGRAM, so its own options are never taken for ours. */
	while ((opt = getopt(argc, argv, "+t:vw:s:h")) != -1) {
		char *end;

		switch (opt) {
		case 't':
			errno = 0;
			run.timeout_s = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(run.timeout_s > 0) ||
			    !(run.timeout_s <= 1e6)) {
				fprintf(stderr, "ptyrun: bad timeout '%s'\n", optarg);
				usage();
			}
			break;
		case 'v':
			run.verbose = true;
			break;
		case 'w': {
			long w = strtol(optarg, &end, 10);

			if (end == optarg || *end || w < 1 || w > 1000) {
				fprintf(stderr, "ptyrun: bad width '%s'\n", optarg);
				usage();
			}
			run.columns = (unsigned short)w;
			break;
		}
		case 's':
			script_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	run.timeout_ms = (int64_t)(run.timeout_s * 1000 + 0.5);
	if (run.timeout_ms < 1)
		run.timeout_ms = 1;

	read_script(script_path);
	parse_script();
	buf_reserve(&run.text, 0);
	run.text.p[0] = '\0';

	setup_signals();
	start_child(argv + optind);

	for (size_t i = 0; i < run.nsteps; i++) {
		const struct step *st = &run.steps[i];

		tr_step(st);
		switch (st->op) {
		case OP_SEND:
			do_send(st);
			break;
		case OP_EXPECT:
			do_expect(st);
			break;
		case OP_EXPECT_NOT:
			do_expect_not(st);
			break;
		case OP_SLEEP:
			do_sleep(st);
			break;
		case OP_UNTIL:
			do_until(st);
			break;
		case OP_RUN:
			do_run(st);
			break;
		case OP_WAIT:
			do_wait(st);
			break;
		}
	}
	finish_child();
	free_all();
	return 0;
}
