/*
 * metrics.c: runs, queue, durations, breakers, alerts and workers for monitoring, read
 * in one statement and written out in the Prometheus text exposition format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

/*
 * The upper bounds, in seconds, of the buckets of the run duration histogram: from a
 * quick query to a six-hour load. As text, the same in SQL and in le labels whatever
 * the locale's decimal point.
 */
static const char *const duration_bounds[] = {
	"0.1", "0.5", "1", "5", "10", "30", "60", "300", "600", "1800", "3600", "7200", "21600",
};
#define NBOUNDS (sizeof(duration_bounds) / sizeof(duration_bounds[0]))

/* A worker that has not beaten for this long died without stopping: leave it out. */
#define WORKER_FORGOTTEN "interval '1 day'"

/* count(*) FILTER (...) AS b0, ...: the cumulative bucket counts of one group of runs. */
static void add_bucket_counts(struct ds_buf *sql)
{
	for (size_t i = 0; i < NBOUNDS; i++)
		ds_buf_addf(sql, ",\n         count(*) FILTER (WHERE d <= %s::float8) AS b%zu",
			    duration_bounds[i], i);
}

/* json_build_array of {le, count} per bucket, summed over the ended runs of a graph. */
static void add_bucket_json(struct ds_buf *sql)
{
	ds_buf_addf(sql, "json_build_array(");
	for (size_t i = 0; i < NBOUNDS; i++)
		ds_buf_addf(sql,
			    "%sjson_build_object('le', %s, 'count',\n"
			    "      coalesce(sum(p.b%zu) FILTER (WHERE p.ended_state), 0))",
			    i ? ",\n    " : "", duration_bounds[i], i);
	ds_buf_addf(sql, ")");
}

/*
 * One scan of all runs, grouped by task and state, feeds the runs by state and the
 * histogram; the queue is read through its partial index, the rest are small tables.
 * A run's duration is that of its last attempt, counted once it has ended (success,
 * failed, blocked, cancelled). At a million runs the scan is most of the cost, so it
 * computes as little per run as it can: the duration once (the OFFSET 0 keeps the
 * planner from copying its expression into every aggregate that reads it), and
 * which runs have ended only per group.
 */
static char *metrics_sql(const char *schema)
{
	struct ds_buf sql = DS_BUF_INIT;

	ds_buf_addf(&sql, "WITH per AS MATERIALIZED (\n"
			  "  SELECT task_id, state, count(*) AS runs, count(d) AS ended,\n"
			  "         sum(d) AS ended_sum");
	add_bucket_counts(&sql);
	ds_buf_addf(
		&sql,
		"\n  FROM (SELECT task_id, state, date_part('epoch', finished_at - started_at) AS d\n"
		"        FROM %1$s.runs OFFSET 0) r\n"
		"  GROUP BY task_id, state\n"
		"), per_task AS (\n"
		"  SELECT t.graph, t.name AS task,\n"
		"         p.state IN ('success', 'failed', 'blocked', 'cancelled') AS ended_state, p.*\n"
		"  FROM per p JOIN %1$s.tasks t ON t.id = p.task_id\n"
		"), ready AS (\n"
		"  SELECT t.graph, count(*) AS ready,\n"
		"         greatest(date_part('epoch', now() - min(greatest(r.queued_at, r.not_before))),\n"
		"                  0) AS oldest_ready_age\n"
		"  FROM %1$s.runs r JOIN %1$s.tasks t ON t.id = r.task_id\n"
		"  WHERE r.state = 'queued' AND r.not_before <= now() GROUP BY t.graph\n"
		/* Every graph not removed, and removed ones that still have runs. */
		"), per_graph AS (\n"
		"  SELECT g.name AS graph,\n"
		"         coalesce(sum(p.runs) FILTER (WHERE p.state = 'queued'), 0) AS queued,\n"
		"         coalesce(sum(p.ended) FILTER (WHERE p.ended_state), 0) AS ended,\n"
		"         coalesce(sum(p.ended_sum) FILTER (WHERE p.ended_state), 0) AS ended_sum,\n"
		"         ",
		schema);
	add_bucket_json(&sql);
	/* clang-format off */
	ds_buf_addf(
		&sql,
		" AS buckets\n"
		"  FROM %1$s.graphs g LEFT JOIN per_task p ON p.graph = g.name\n"
		"  GROUP BY g.name HAVING bool_or(g.removed_at IS NULL) OR count(p.task_id) > 0\n"
		")\n"
		"SELECT\n"
		" (SELECT coalesce(json_agg(json_build_object('graph', graph, 'task', task,\n"
		"    'state', state, 'count', runs) ORDER BY graph, task, state), '[]')\n"
		"  FROM per_task) AS runs,\n"
		" (SELECT coalesce(json_agg(json_build_object('graph', g.graph, 'queued', g.queued,\n"
		"    'ready', coalesce(r.ready, 0),\n"
		"    'oldest_ready_age_seconds', coalesce(r.oldest_ready_age, 0))\n"
		"    ORDER BY g.graph), '[]')\n"
		"  FROM per_graph g LEFT JOIN ready r ON r.graph = g.graph) AS queue,\n"
		" (SELECT coalesce(json_agg(json_build_object('graph', graph, 'count', ended,\n"
		"    'sum_seconds', ended_sum, 'buckets', buckets) ORDER BY graph), '[]')\n"
		"  FROM per_graph) AS run_durations,\n"
		" (SELECT coalesce(json_agg(json_build_object('graph', t.graph, 'task', t.name,\n"
		"    'state', b.state, 'manual', b.manual,\n"
		"    'opened_at', " DS_SQL_ISO("b.opened_at") ") ORDER BY t.graph, t.name), '[]')\n"
		"  FROM %1$s.breakers b JOIN %1$s.tasks t ON t.id = b.task_id\n"
		"  WHERE b.state IN ('open', 'half_open')) AS breakers,\n"
		" (SELECT coalesce(json_agg(json_build_object('kind', k.kind, 'state', s.state,\n"
		"    'count', (SELECT count(*) FROM %1$s.alerts a\n"
		"              WHERE a.kind = k.kind AND a.state = s.state))\n"
		"    ORDER BY k.kind, s.ord), '[]')\n"
		"  FROM (SELECT DISTINCT kind FROM %1$s.alerts) k,\n"
		"       (VALUES (1, 'open'), (2, 'acked')) s(ord, state)) AS alerts,\n"
		" (SELECT coalesce(json_agg(json_build_object('worker', name, 'host', host,\n"
		"    'pid', pid, 'graph', graph, 'concurrency', concurrency,\n"
		"    'started_at', " DS_SQL_ISO("started_at") ",\n"
		"    'heartbeat_at', " DS_SQL_ISO("heartbeat_at") ",\n"
		"    'heartbeat_timestamp_seconds', date_part('epoch', heartbeat_at))\n"
		"    ORDER BY name), '[]')\n"
		"  FROM %1$s.workers\n"
		"  WHERE stopped_at IS NULL AND heartbeat_at > now() - " WORKER_FORGOTTEN ")\n"
		"  AS workers",
		schema);
	/* clang-format on */
	return ds_buf_take(&sql);
}

json_t *ds_metrics(struct ds_db *db, struct ds_error *err)
{
	char *sql = metrics_sql(db->schema_ident);
	json_t *rows = ds_db_json_rows(db, sql, 0, NULL, err), *out;

	free(sql);
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
		/* The buckets come in the order of duration_bounds. */
		json_array_foreach(json_object_get(item, "buckets"), k, bucket)
		{
			if (k >= NBOUNDS)
				break;
			ds_buf_addf(b, "%s_bucket", name);
			add_labels(b, item, labels, duration_bounds[k]);
			add_value(b, json_object_get(bucket, "count"));
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
		  "Queued runs whose not_before has come, by graph; their upstreams may not be "
		  "done yet.",
		  queue, by_graph, "ready");
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

int ds_metrics_write_file(const json_t *metrics, const char *path, struct ds_error *err)
{
	char *tmp = ds_xprintf("%s.tmp.%d", path, (int)getpid());
	char *text = ds_metrics_text(metrics);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;

	if (fd >= 0) {
		int wrote = write_all(fd, text, strlen(text));

		if (close(fd) == 0 && wrote == 0 && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc < 0) {
		ds_error_set(err, DS_ERR_FAILED, "cannot write metrics to '%s': %s", path,
			     strerror(errno));
		unlink(tmp);
	}
	free(text);
	free(tmp);
	return rc;
}
