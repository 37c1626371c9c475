/*
 * local.c: creating, starting and stopping the private cluster behind --local.
 *
 * initdb and pg_ctl run as child processes whose output we capture, so a failure
 * reaches the user as an error value quoting what PostgreSQL said.
 */
#include <errno.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "local.h"
#include "util.h"

/* The private server's port; it only names the socket file in sockdir. */
#define LOCAL_PORT "5432"

int ds_local_init(struct ds_local *l, struct ds_error *err)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	struct sockaddr_un sun;
	char *base;

	memset(l, 0, sizeof(*l));
	if (xdg && xdg[0] == '/') {
		base = ds_xstrdup(xdg);
	} else if (home && home[0]) {
		base = ds_xprintf("%s/.local/share", home);
	} else {
		return ds_error_set(err, DS_ERR_FAILED,
				    "cannot place the private cluster: neither XDG_DATA_HOME nor "
				    "HOME is set");
	}
	l->dir = ds_xprintf("%s/datashell", base);
	free(base);
	l->datadir = ds_xprintf("%s/pgdata", l->dir);
	l->sockdir = ds_xprintf("%s/run", l->dir);
	l->logfile = ds_xprintf("%s/log/server.log", l->dir);
	if (geteuid() == 0) {
		l->user = ds_xstrdup("postgres");
	} else {
		struct passwd *pw = getpwuid(geteuid());

		l->user = ds_xstrdup(pw ? pw->pw_name : "postgres");
	}
	if (strlen(l->sockdir) + sizeof("/.s.PGSQL." LOCAL_PORT) > sizeof(sun.sun_path)) {
		ds_error_set(err, DS_ERR_FAILED,
			     "the socket directory '%s' is too long for a Unix socket path",
			     l->sockdir);
		ds_error_hint(err, "set XDG_DATA_HOME to a shorter directory");
		ds_local_release(l);
		return -1;
	}
	return 0;
}

void ds_local_release(struct ds_local *l)
{
	free(l->dir);
	free(l->datadir);
	free(l->sockdir);
	free(l->logfile);
	free(l->user);
	memset(l, 0, sizeof(*l));
}

/* The highest PostgreSQL version's bin directory holding tool, or NULL. Caller frees. */
static char *find_pg_tool(const char *tool)
{
	const char *path = getenv("PATH");
	char *found = NULL, *pattern;
	glob_t g;

	if (path) {
		char *copy = ds_xstrdup(path), *save = NULL;

		char *d = strtok_r(copy, ":", &save);

		for (; d && !found; d = strtok_r(NULL, ":", &save)) {
			char *candidate = ds_xprintf("%s/%s", d[0] ? d : ".", tool);

			if (access(candidate, X_OK) == 0)
				found = candidate;
			else
				free(candidate);
		}
		free(copy);
		if (found)
			return found;
	}
	/* Debian keeps initdb and pg_ctl off PATH, in one directory per major version. */
	pattern = ds_xprintf("/usr/lib/postgresql/*/bin/%s", tool);
	if (glob(pattern, 0, NULL, &g) == 0) {
		long best = -1;

		for (size_t i = 0; i < g.gl_pathc; i++) {
			long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);

			if (v > best && access(g.gl_pathv[i], X_OK) == 0) {
				best = v;
				free(found);
				found = ds_xstrdup(g.gl_pathv[i]);
			}
		}
		globfree(&g);
	}
	free(pattern);
	return found;
}

/*
 * In the child: become the cluster's user, if we are root. Never returns on failure.
 * Not async-signal-safe, as no call from the shell needs to be.
 */
static void become_cluster_user(void *ctx)
{
	const struct ds_local *l = ctx;
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	pw = getpwnam(l->user);
	if (!pw) {
		fprintf(stderr,
			"the '%s' system user does not exist; PostgreSQL refuses to "
			"run as root\n",
			l->user);
		_exit(125);
	}
	if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "cannot switch to user '%s': %s\n", l->user, strerror(errno));
		_exit(125);
	}
	if (access(l->sockdir, W_OK | X_OK) < 0) {
		fprintf(stderr, "user '%s' cannot reach '%s': %s\n", l->user, l->sockdir,
			strerror(errno));
		_exit(125);
	}
}

/* Everything the child writes, until it closes its end of the pipe. Caller frees. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 1024;
	char *buf = ds_xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (cap - len < 512)
			buf = ds_xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * Run argv as the cluster's user with output captured into *output (caller frees).
 * Returns the exit status, or -1 with err set if it could not run at all. The tool
 * stays in our process group: Ctrl-C at the terminal reaches it as it reaches us.
 */
static int run_tool(const struct ds_local *l, char *const argv[], char **output,
		    struct ds_error *err)
{
	const struct ds_child_opts opts = {
		.path = argv[0],
		.argv = argv,
		.output = DS_CHILD_OUTPUT_PIPE,
		.before_exec = become_cluster_user,
		.ctx = (void *)l,
		.say_exec_error = 1,
	};
	struct ds_child child;
	const char *failed;
	int status;

	fflush(NULL);
	if (ds_child_start(&child, &opts, &failed) < 0)
		return ds_error_set(err, DS_ERR_FAILED, "cannot run '%s': %s", argv[0],
				    strerror(errno));
	*output = read_all(child.out);
	close(child.out);
	status = ds_child_wait(&child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last non-empty line of text, trimmed, in a static-free copy. Caller frees. */
static char *last_line(const char *text)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	return ds_xprintf("%.*s", (int)(end - start), start);
}

/* Run a tool that must succeed; on failure quote the last line it printed. */
static int run_checked(const struct ds_local *l, char *const argv[], struct ds_error *err)
{
	char *output = NULL, *line;
	int rc = run_tool(l, argv, &output, err);

	if (rc == 0 || rc < 0) {
		free(output);
		return rc;
	}
	line = last_line(output);
	ds_error_set(err, DS_ERR_FAILED, "%s failed (exit %d): %s", strrchr(argv[0], '/') + 1, rc,
		     line[0] ? line : "no output");
	free(line);
	free(output);
	return -1;
}

static char *require_pg_tool(const char *tool, struct ds_error *err)
{
	char *path = find_pg_tool(tool);

	if (!path) {
		ds_error_set(err, DS_ERR_FAILED, "cannot find PostgreSQL's '%s'", tool);
		ds_error_hint(err, "install the server (apt-get install postgresql) or put its "
				   "bin directory on PATH");
	}
	return path;
}

int ds_local_state(const struct ds_local *l, enum ds_local_state *state, struct ds_error *err)
{
	char *version = ds_xprintf("%s/PG_VERSION", l->datadir);
	char *pg_ctl, *output = NULL;
	int rc;

	rc = access(version, F_OK);
	free(version);
	if (rc < 0) {
		*state = DS_LOCAL_ABSENT;
		return 0;
	}
	pg_ctl = require_pg_tool("pg_ctl", err);
	if (!pg_ctl)
		return -1;
	{
		char *argv[] = { pg_ctl, "status", "-D", l->datadir, NULL };

		rc = run_tool(l, argv, &output, err);
	}
	free(pg_ctl);
	free(output);
	if (rc < 0)
		return -1;
	/* pg_ctl status: 0 running, 3 not running. */
	*state = rc == 0 ? DS_LOCAL_RUNNING : DS_LOCAL_STOPPED;
	return 0;
}

static int make_dir(const struct ds_local *l, const char *path, mode_t mode, int owned_by_server,
		    struct ds_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return ds_error_set(err, DS_ERR_FAILED, "cannot create '%s': %s", path,
				    strerror(errno));
	if (owned_by_server && geteuid() == 0) {
		struct passwd *pw = getpwnam(l->user);

		if (!pw) {
			ds_error_set(err, DS_ERR_FAILED, "the '%s' system user does not exist",
				     l->user);
			return ds_error_hint(err, "PostgreSQL refuses to run as root; install the "
						  "postgresql package, which creates that user");
		}
		if (chown(path, pw->pw_uid, pw->pw_gid) < 0)
			return ds_error_set(err, DS_ERR_FAILED, "cannot hand '%s' to user '%s': %s",
					    path, l->user, strerror(errno));
	}
	return 0;
}

/* mkdir -p for the parents of l->dir, with ordinary permissions. */
static int make_parents(const char *dir, struct ds_error *err)
{
	char *copy = ds_xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = ds_error_set(err, DS_ERR_FAILED, "cannot create '%s': %s", copy,
					  strerror(errno));
		*p = '/';
	}
	free(copy);
	return rc;
}

static int prepare_dirs(const struct ds_local *l, struct ds_error *err)
{
	char *logdir = ds_xprintf("%s/log", l->dir);
	/* As root the server's user must be able to pass through dir to reach the rest. */
	mode_t top = geteuid() == 0 ? 0755 : 0700;
	int rc = -1;

	if (make_parents(l->dir, err) == 0 && make_dir(l, l->dir, top, 0, err) == 0 &&
	    make_dir(l, l->datadir, 0700, 1, err) == 0 &&
	    make_dir(l, l->sockdir, 0700, 1, err) == 0 && make_dir(l, logdir, 0700, 1, err) == 0)
		rc = 0;
	free(logdir);
	return rc;
}

/* Quote a value for postgresql.conf: single quotes, with quotes doubled. Caller frees. */
static char *conf_quote(const char *s)
{
	char *out = ds_xmalloc(2 * strlen(s) + 3), *p = out;

	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

/* The cluster listens on its private socket and nowhere else. */
static int write_config(const struct ds_local *l, struct ds_error *err)
{
	char *path = ds_xprintf("%s/postgresql.conf", l->datadir);
	char *sock = conf_quote(l->sockdir);
	FILE *f = fopen(path, "a");
	int rc = 0;

	if (!f) {
		rc = ds_error_set(err, DS_ERR_FAILED, "cannot write '%s': %s", path,
				  strerror(errno));
	} else {
		fprintf(f,
			"\n# added by datashell: a private server on a Unix socket only\n"
			"listen_addresses = ''\n"
			"port = " LOCAL_PORT "\n"
			"unix_socket_directories = %s\n"
			"unix_socket_permissions = 0700\n",
			sock);
		if (fclose(f) != 0)
			rc = ds_error_set(err, DS_ERR_FAILED, "cannot write '%s': %s", path,
					  strerror(errno));
	}
	free(sock);
	free(path);
	return rc;
}

static int create_cluster(const struct ds_local *l, struct ds_error *err)
{
	char *initdb = require_pg_tool("initdb", err);
	char user_opt[300];
	int rc;

	if (!initdb)
		return -1;
	snprintf(user_opt, sizeof(user_opt), "--username=%s", l->user);
	{
		char *argv[] = { initdb,	 "-D",
				 l->datadir,	 user_opt,
				 "--auth=trust", "--encoding=UTF8",
				 "--locale=C",	 NULL };

		rc = run_checked(l, argv, err);
	}
	free(initdb);
	if (rc < 0)
		return -1;
	return write_config(l, err);
}

/* After a failed start the server's log says why; quote its last line. */
static void add_log_reason(const struct ds_local *l, struct ds_error *err)
{
	FILE *f = fopen(l->logfile, "r");
	char line[512], last[512] = "";

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			memcpy(last, line, sizeof(last));
	fclose(f);
	last[strcspn(last, "\n")] = '\0';
	if (last[0])
		ds_error_hint(err, "the server log '%s' ends with: %s", l->logfile, last);
}

int ds_local_start(const struct ds_local *l, ds_progress_fn progress, void *ctx, int *created,
		   struct ds_error *err)
{
	enum ds_local_state state;
	char *pg_ctl;
	int rc;

	*created = 0;
	if (ds_local_state(l, &state, err) < 0)
		return -1;
	if (state == DS_LOCAL_RUNNING)
		return 0;
	if (prepare_dirs(l, err) < 0)
		return -1;
	if (state == DS_LOCAL_ABSENT) {
		if (progress) {
			char *msg = ds_xprintf("creating a private PostgreSQL cluster in '%s'",
					       l->datadir);

			progress(ctx, msg);
			free(msg);
		}
		if (create_cluster(l, err) < 0)
			return -1;
		*created = 1;
	}
	pg_ctl = require_pg_tool("pg_ctl", err);
	if (!pg_ctl)
		return -1;
	{
		char *argv[] = { pg_ctl, "start",    "-w", "-t",       "60", "-s",
				 "-D",	 l->datadir, "-l", l->logfile, NULL };

		rc = run_checked(l, argv, err);
	}
	free(pg_ctl);
	if (rc < 0)
		add_log_reason(l, err);
	return rc;
}

int ds_local_stop(const struct ds_local *l, struct ds_error *err)
{
	char *pg_ctl = require_pg_tool("pg_ctl", err);
	int rc;

	if (!pg_ctl)
		return -1;
	{
		char *argv[] = { pg_ctl, "stop", "-w", "-s", "-m", "fast", "-D", l->datadir, NULL };

		rc = run_checked(l, argv, err);
	}
	free(pg_ctl);
	return rc;
}

const char *ds_local_port(void)
{
	return LOCAL_PORT;
}
