/*
 * confirm.c: the one way a command that can destroy or hide data asks before it does:
 * at a terminal it shows what will happen and waits for a yes; in a script it needs
 * --yes, since nobody is there to answer. See ds_confirm() in command.h.
 */
#include <stdlib.h>

#include "../../core/util.h"
#include "../command.h"

int ds_confirm(struct ds_session *s, const struct ds_invocation *inv, json_t *shown,
	       const char *what)
{
	char *question;
	int yes;

	if (inv->yes)
		return 1;
	if (!s->interactive || !s->confirm) {
		/* A usage error: nothing was tried, so the audit log has nothing to say. */
		ds_error_set(&s->err, DS_ERR_USAGE, "'%s' would %s; in a script it needs --yes",
			     inv->cmd->name, what);
		return ds_error_hint(&s->err, "add --yes to go ahead, or --dry-run to see what it "
					      "would do");
	}
	question = ds_xprintf("%s?", what);
	yes = s->confirm(s, shown, question);
	free(question);
	return yes;
}

void ds_declined(struct ds_result *out, json_t *shown, const char *what)
{
	out->data = json_pack("{s:b, s:O}", "confirmed", 0, "would", shown);
	out->text = ds_xprintf("nothing changed: did not %s", what);
}
