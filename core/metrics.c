/*
 * metrics.c: runs, queue, durations, breakers, alerts and workers for monitoring, read
 * in one statement (core/sql/metrics/figures.sql) and written out in the Prometheus text
 * exposition format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "metrics.h"
#include "sql.h"
#include "util.h"

json_t *ds_metrics(struct ds_db *db, struct ds_error *err)
{
	json_t *rows = ds_sql_json_rows(db, DS_SQL_METRICS_FIGURES, 0, NULL, err), *out;

	if (!rows)
		return NULL;
	out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return out;
}

/* A label value, escaped as the format asks: backslash, double quote and newline. */
static void add_label_value(struct ds_buf *b, const char *s)
{
	ds_buf_add(b, "\"", 1);
	for (; *s; s++) {
		if (*s == '\\')
			ds_buf_add(b, "\\\\", 2);
		else if (*s == '"')
			ds_buf_add(b, "\\\"", 2);
		else if (*s == '\n')
			ds_buf_add(b, "\\n", 2);
		else
			ds_buf_add(b, s, 1);
	}
	ds_buf_add(b, "\"", 1);
}

/* {name="value",...} from the fields of item that labels names, then le if given. */
static void add_labels(struct ds_buf *b, const json_t *item, const char *const *labels,
		       const char *le)
{
	int n = 0;

	for (; *labels; labels++) {
		const char *v = json_string_value(json_object_get(item, *labels));

		ds_buf_addf(b, "%s%s=", n++ ? "," : "{", *labels);
		add_label_value(b, v ? v : "");
	}
	if (le) {
		ds_buf_addf(b, "%sle=", n++ ? "," : "{");
		add_label_value(b, le);
	}
	if (n)
		ds_buf_add(b, "}", 1);
}

/*
 * A sample's value: whole numbers as such, others to the microsecond, written with
 * integers so that the decimal point is a point in every locale.
 */
static void add_value(struct ds_buf *b, const json_t *v)
{
	double x = json_number_value(v);
	long long us = (long long)(x * 1e6 + (x < 0 ? -0.5 : 0.5));
	long long mag = us < 0 ? -us : us;

	if (json_is_integer(v))
		ds_buf_addf(b, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else
		ds_buf_addf(b, " %s%lld.%06lld\n", us < 0 ? "-" : "", mag / 1000000, mag % 1000000);
}

static void add_family(struct ds_buf *b, const char *name, const char *type, const char *help)
{
	ds_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A gauge with one sample per item: its field (NULL: the value 1) and labels. */
static void add_gauge(struct ds_buf *b, const char *name, const char *help, const json_t *items,
		      const char *const *labels, const char *field)
{
	size_t i;
	const json_t *item;
	json_t *one = json_integer(1);

	add_family(b, name, "gauge", help);
	json_array_foreach(items, i, item)
	{
		ds_buf_addf(b, "%s", name);
		add_labels(b, item, labels, NULL);
		add_value(b, field ? json_object_get(item, field) : one);
	}
	json_decref(one);
}

/*
 * A bucket's upper bound as its le label, the number as the statement wrote it ("0.1",
 * "21600"): jansson writes it with a point whatever the locale, and 15 digits give back
 * the decimal a double was read from. Caller frees.
 */
static char *le_label(const json_t *le)
{
	return json_dumps(le, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

/* The run duration histogram, one series per graph: cumulative buckets, sum, count. */
static void add_duration_histogram(struct ds_buf *b, const json_t *items)
{
	static const char *const labels[] = { "graph", NULL };
	const char *name = "datashell_run_duration_seconds";
	size_t i, k;
	const json_t *item, *bucket;

	add_family(b, name, "histogram",
		   "Duration of the last attempt of each ended run in the state store, by graph.");
	json_array_foreach(items, i, item)
	{
		json_array_foreach(json_object_get(item, "buckets"), k, bucket)
		{
			char *le = le_label(json_object_get(bucket, "le"));

			ds_buf_addf(b, "%s_bucket", name);
			add_labels(b, item, labels, le);
			add_value(b, json_object_get(bucket, "count"));
			free(le);
		}
		ds_buf_addf(b, "%s_bucket", name);
		add_labels(b, item, labels, "+Inf");
		add_value(b, json_object_get(item, "count"));
		ds_buf_addf(b, "%s_sum", name);
		add_labels(b, item, labels, NULL);
		add_value(b, json_object_get(item, "sum_seconds"));
		ds_buf_addf(b, "%s_count", name);
		add_labels(b, item, labels, NULL);
		add_value(b, json_object_get(item, "count"));
	}
}

char *ds_metrics_text(const json_t *m)
{
	static const char *const by_task[] = { "graph", "task", "state", NULL };
	static const char *const by_graph[] = { "graph", NULL };
	static const char *const by_kind[] = { "kind", "state", NULL };
	static const char *const by_worker[] = { "worker", "host", NULL };
	const json_t *queue = json_object_get(m, "queue");
	struct ds_buf b = DS_BUF_INIT;

	add_gauge(&b, "datashell_runs", "Runs in the state store, by graph, task and state.",
		  json_object_get(m, "runs"), by_task, "count");
	add_gauge(&b, "datashell_queue_queued_runs", "Queued runs, due or not, by graph.", queue,
		  by_graph, "queued");
	add_gauge(&b, "datashell_queue_ready_runs",
		  "Queued runs whose not_before has come and that are not stuck, by graph; their "
		  "upstreams may still be on their way.",
		  queue, by_graph, "ready");
	add_gauge(&b, "datashell_queue_stuck_runs",
		  "Waiting runs (queued or held) that only a person can move, by graph: behind a "
		  "breaker tripped by hand, a paused graph, or a failed, blocked, cancelled or "
		  "never enqueued upstream key.",
		  queue, by_graph, "stuck");
	add_gauge(&b, "datashell_queue_oldest_ready_age_seconds",
		  "Seconds since the longest-waiting ready run became due, by graph; 0 when none "
		  "is.",
		  queue, by_graph, "oldest_ready_age_seconds");
	add_duration_histogram(&b, json_object_get(m, "run_durations"));
	add_gauge(&b, "datashell_breaker_open",
		  "1 for each task whose breaker is open or half open, by graph, task and state.",
		  json_object_get(m, "breakers"), by_task, NULL);
	add_gauge(&b, "datashell_alerts", "Alerts open or acknowledged, by kind and state.",
		  json_object_get(m, "alerts"), by_kind, "count");
	add_gauge(&b, "datashell_worker_heartbeat_timestamp_seconds",
		  "Unix time of the last heartbeat of each worker that has not stopped.",
		  json_object_get(m, "workers"), by_worker, "heartbeat_timestamp_seconds");
	return ds_buf_take(&b);
}

/* Write all of text to fd. */
static int write_all(int fd, const char *text, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, text, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		text += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * Create tmp for writing, never through a link and never over a file of someone else's:
 * the collector's directory may be shared. A regular file of this user's with no
 * other link (left by a process that died before it renamed it) is replaced.
 */
static int create_tmp(const char *tmp, const char *path, struct ds_error *err)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, 0644);
	struct stat st;

	if (fd < 0 && errno == EEXIST && lstat(tmp, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && st.st_nlink == 1 && unlink(tmp) == 0)
		fd = open(tmp, flags, 0644);
	if (fd < 0 && errno == EEXIST)
		ds_error_set(err, DS_ERR_FAILED,
			     "cannot write metrics to '%s': '%s' exists and is not a file of "
			     "this worker's: remove it",
			     path, tmp);
	else if (fd < 0)
		ds_error_set(err, DS_ERR_FAILED, "cannot write metrics to '%s': %s", path,
			     strerror(errno));
	return fd;
}

int ds_metrics_write_file(const json_t *metrics, const char *path, struct ds_error *err)
{
	char *tmp = ds_xprintf("%s.tmp.%d", path, (int)getpid());
	char *text = NULL;
	int fd = create_tmp(tmp, path, err), rc = -1;

	if (fd >= 0) {
		int wrote;

		text = ds_metrics_text(metrics);
		wrote = write_all(fd, text, strlen(text));
		if (close(fd) == 0 && wrote == 0 && rename(tmp, path) == 0)
			rc = 0;
		if (rc < 0) {
			ds_error_set(err, DS_ERR_FAILED, "cannot write metrics to '%s': %s", path,
				     strerror(errno));
			unlink(tmp); /* ours: created above */
		}
	}
	free(text);
	free(tmp);
	return rc;
}
