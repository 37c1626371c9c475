/*
 * child.h: a command run as a child process. It is started with the argv, environment
 * and standard streams its caller asks for, looked at without blocking or waited for to
 * its end, and killed together with whatever it started. The worker's commands
 * (execute.c), the alert hook (hook.c) and the private cluster's tools (local.c) all
 * start theirs here; what differs between them is in struct ds_child_opts.
 */
#ifndef DS_CHILD_H
#define DS_CHILD_H

#include <sys/types.h>

/* Where the child's stdout and stderr go. */
enum ds_child_output {
	DS_CHILD_OUTPUT_PIPE,	/* both into one pipe, which the caller reads (ds_child.out) */
	DS_CHILD_OUTPUT_STDERR, /* both to our stderr */
};

struct ds_child_opts {
	const char *path;  /* the program to run */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated, or NULL for our own environment */
	/*
	 * A process group of its own, which ds_child_signal and ds_child_kill reach whole,
	 * with no blocked signals and the default actions for those we handle. Without it,
	 * the child shares our group and our signal settings: Ctrl-C at the terminal
	 * reaches it too.
	 */
	int own_group;
	const char *input; /* written to its stdin, as much as a pipe holds; NULL: /dev/null */
	enum ds_child_output output;
	/* Called in the child just before exec (may be NULL); it may _exit() after saying why. */
	void (*before_exec)(void *ctx);
	void *ctx;
	int say_exec_error; /* a failed exec says "cannot run 'PATH': why" on the child's stderr */
};

struct ds_child {
	pid_t pid; /* 0 when there is none */
	int out;   /* the read end of its output pipe, for the caller to read and close; or -1 */
};

/*
 * Start a child as opts says. 0, or -1 with errno set and *failed naming the call that
 * failed ("pipe", "fork"). The environment and argv are the caller's to free after.
 */
int ds_child_start(struct ds_child *c, const struct ds_child_opts *opts, const char **failed);

/* Send sig to the child's process group (own_group); nothing once it was reaped. */
void ds_child_signal(const struct ds_child *c, int sig);

enum ds_child_state {
	DS_CHILD_RUNNING,
	DS_CHILD_EXITED,    /* it exited and was reaped */
	DS_CHILD_TIMED_OUT, /* it ran past the deadline, was killed and reaped */
	DS_CHILD_LOST,	    /* it cannot be waited for (errno says why) */
};

/*
 * Look without blocking whether the child exited. Once it did, or once now reaches
 * deadline (a monotonic time; 0: none), it is reaped, its wait status in *status. Its
 * process group is killed first, while the exited leader keeps the group's id from
 * being reused, when kill_group is set or the deadline passed: what it started goes
 * with it.
 */
enum ds_child_state ds_child_poll(struct ds_child *c, double now, double deadline, int kill_group,
				  int *status);

/* Wait for the child to exit, however long it takes, and reap it: its wait status. */
int ds_child_wait(struct ds_child *c);

/* Kill the child's process group and reap it, if it runs: we are going away. */
void ds_child_kill(struct ds_child *c);

#endif
