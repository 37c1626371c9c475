/*
 * reconnect.c: --reconnect-timeout, which the worker and the commands that --wait take:
 * how long to try to reconnect when the server is lost (restarted, or failed over to a
 * standby) before giving up.
 */
#include <string.h>

#include "../../core/util.h"
#include "../command.h"

/* The longest --reconnect-timeout: a week, to keep it an int of seconds with room. */
#define RECONNECT_TIMEOUT_MAX (7L * 86400)

int ds_reconnect_timeout(const char *text, int *seconds, struct ds_error *err)
{
	long v = strcmp(text, "0") ? ds_duration_parse(text) : 0;

	if (v < 0) {
		ds_error_set(err, DS_ERR_USAGE, "--reconnect-timeout: '%s' is not a duration",
			     text);
		return ds_error_hint(err, "a whole number and a unit (30s, 5m, 1h), or 0 to exit "
					  "at once when the server is lost");
	}
	if (v > RECONNECT_TIMEOUT_MAX)
		return ds_error_set(
			err, DS_ERR_USAGE,
			"--reconnect-timeout: '%s' is more than the longest, %lds (a week)", text,
			RECONNECT_TIMEOUT_MAX);
	*seconds = (int)v;
	return 0;
}
