/* hook.c: running the alert hook as a child process, polled from the worker's loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "execute.h"
#include "hook.h"
#include "util.h"

/* The child: stdin from the pipe, stdout to stderr, its own process group. */
static void exec_hook(int in, const char *command)
{
	ds_child_reset();
	if (dup2(in, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

char *ds_hook_start(struct ds_hook *h, long long alert, const char *json, double now)
{
	size_t len = strlen(json), done = 0;
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return ds_xprintf("cannot start the alert hook: pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0)
		exec_hook(fds[0], h->command);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		return ds_xprintf("cannot start the alert hook: fork: %s", strerror(errno));
	}
	setpgid(pid, pid);
	/*
	 * An alert is a few kilobytes, less than a pipe holds: this does not block. A hook
	 * that does not read it gets what fits, and EPIPE is its own business.
	 */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	while (done < len) {
		ssize_t n = write(fds[1], json + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fds[1]);
	h->pid = pid;
	h->alert = alert;
	h->deadline = now + h->timeout_s;
	return NULL;
}

int ds_hook_poll(struct ds_hook *h, double now, char **error)
{
	siginfo_t info;
	int status = 0, exited;

	*error = NULL;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)h->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
		*error = ds_xprintf("lost track of the hook: %s", strerror(errno));
		h->pid = 0;
		return 1;
	}
	exited = info.si_pid != 0;
	if (!exited && now < h->deadline)
		return 0;
	/*
	 * Whatever the hook started goes with it. The leader is not reaped yet, so its
	 * process group id cannot belong to anyone else.
	 */
	kill(-h->pid, SIGKILL);
	waitpid(h->pid, &status, 0);
	if (!exited)
		*error = ds_xprintf("the hook ran longer than %ds and was killed", h->timeout_s);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		*error = ds_xprintf("the hook exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		*error = ds_xprintf("the hook was killed by signal %d (%s)", WTERMSIG(status),
				    strsignal(WTERMSIG(status)));
	h->pid = 0;
	return 1;
}

void ds_hook_abandon(struct ds_hook *h)
{
	if (!h->pid)
		return;
	kill(-h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	h->pid = 0;
}
