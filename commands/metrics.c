/* metrics: the state of the pipelines in the Prometheus text exposition format. */
#include "../core/metrics.h"
#include "command.h"

static int run_metrics(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	(void)inv;
	out->data = ds_metrics(&s->db, &s->err);
	if (!out->data)
		return -1;
	out->text = ds_metrics_text(out->data);
	return 0;
}

const struct ds_command ds_cmd_metrics = {
	.name = "metrics",
	.group = "runs",
	.synopsis = "",
	.summary = "print runs, queue, durations, breakers, alerts and workers for Prometheus",
	.description =
		"Prints the Prometheus text exposition format: runs by graph, task and state;\n"
		"per graph the queued runs, those whose time has come and the age of the oldest\n"
		"of these; a histogram of run durations; open breakers; open and acknowledged\n"
		"alerts by kind; the heartbeats of the workers. Read in one statement. For\n"
		"node_exporter's textfile collector, see worker --metrics-file.",
	.example = "metrics",
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_SCHEMA,
	.role = DS_ROLE_VIEWER,
	.run = run_metrics,
};
