/*
 * child.c: starting, watching and killing child processes.
 *
 * Between fork and exec the child makes only async-signal-safe calls, since the
 * sanitizers' runtimes may have threads; anything to prepare (an environment, say) is
 * prepared before the fork. Only a caller's before_exec and say_exec_error go further,
 * for the private cluster's tools, started from the shell alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

extern char **environ;

/* In the child: a process group of its own, no blocked signals, the default actions. */
static void leave_our_group(void)
{
	sigset_t none;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

/* Its standard streams: stdin from in (-1: /dev/null), stdout and stderr to out or ours. */
static int connect_streams(const struct ds_child_opts *o, int in, int out)
{
	if (in < 0)
		in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, STDIN_FILENO) < 0)
		return -1;
	if (o->output == DS_CHILD_OUTPUT_STDERR)
		return dup2(STDERR_FILENO, STDOUT_FILENO) < 0 ? -1 : 0;
	return dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0 ? -1 : 0;
}

/* The child side of ds_child_start: never returns. */
static void exec_child(const struct ds_child_opts *o, int in, int out)
{
	if (o->own_group)
		leave_our_group();
	if (connect_streams(o, in, out) < 0)
		_exit(126);
	if (o->before_exec)
		o->before_exec(o->ctx);
	execve(o->path, o->argv, o->envp ? o->envp : environ);
	if (o->say_exec_error)
		fprintf(stderr, "cannot run '%s': %s\n", o->path, strerror(errno));
	_exit(127);
}

/*
 * Hand the child its input. A few kilobytes at most, less than a pipe holds: this does
 * not block. A child that does not read it gets what fits, and EPIPE is its own
 * business: a child that exits before we write (a hook of 'exit 7') must not take us
 * with it, so SIGPIPE, which the write raises in this thread, is blocked around it and
 * taken back before it is unblocked.
 */
static void write_input(int fd, const char *input)
{
	size_t len = strlen(input), done = 0;
	sigset_t pipe_signal, old_mask;
	int broken = 0;

	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (done < len) {
		ssize_t n = write(fd, input + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			broken = n < 0 && errno == EPIPE;
			break;
		}
		done += (size_t)n;
	}
	if (broken) {
		const struct timespec now = { 0, 0 };

		sigtimedwait(&pipe_signal, NULL, &now);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	close(fd);
}

/* Close *fd if it is open, leaving errno as it was: it may say why we gave up. */
static void close_fd(int *fd)
{
	int saved = errno;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}

int ds_child_start(struct ds_child *c, const struct ds_child_opts *opts, const char **failed)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;

	c->pid = 0;
	c->out = -1;
	if ((opts->input && pipe2(in, O_CLOEXEC) < 0) ||
	    (opts->output == DS_CHILD_OUTPUT_PIPE && pipe2(out, O_CLOEXEC) < 0)) {
		close_fd(&in[0]);
		close_fd(&in[1]);
		*failed = "pipe";
		return -1;
	}
	pid = fork();
	if (pid == 0)
		exec_child(opts, in[0], out[1]);
	/* The child's ends. */
	close_fd(&in[0]);
	close_fd(&out[1]);
	if (pid < 0) {
		close_fd(&in[1]);
		close_fd(&out[0]);
		*failed = "fork";
		return -1;
	}
	/* Also here, so that signalling the group cannot race the child's own setpgid. */
	if (opts->own_group)
		setpgid(pid, pid);
	if (opts->input)
		write_input(in[1], opts->input);
	c->pid = pid;
	c->out = out[0];
	return 0;
}

void ds_child_signal(const struct ds_child *c, int sig)
{
	if (c->pid > 0)
		kill(-c->pid, sig);
}

enum ds_child_state ds_child_poll(struct ds_child *c, double now, double deadline, int kill_group,
				  int *status)
{
	siginfo_t info;
	int timed_out;

	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return DS_CHILD_LOST;
	timed_out = info.si_pid == 0 && deadline && now >= deadline;
	if (info.si_pid == 0 && !timed_out)
		return DS_CHILD_RUNNING;
	if (kill_group || timed_out)
		kill(-c->pid, SIGKILL);
	if (waitpid(c->pid, status, 0) != c->pid)
		return DS_CHILD_LOST;
	c->pid = 0;
	return timed_out ? DS_CHILD_TIMED_OUT : DS_CHILD_EXITED;
}

int ds_child_wait(struct ds_child *c)
{
	int status = 0;

	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	return status;
}

void ds_child_kill(struct ds_child *c)
{
	if (c->pid <= 0)
		return;
	kill(-c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}
