/*
 * confirm.c: the one way a command that can destroy or hide data asks before it does:
 * at a terminal it shows what will happen and waits for a yes; in a script it needs
 * --yes, since nobody is there to answer. A command that asks only before a large
 * change (backfill) asks the same way and shares the result of a no, but in a script
 * goes ahead. See ds_confirm() in command.h.
 */
#include <stdlib.h>

#include "../../core/util.h"
#include "../command.h"

/* The result of a command the person declined: what it would have done. */
static void declined(struct ds_session *s, json_t *shown, const char *what, struct ds_result *out)
{
	s->audit.unchanged = 1;
	out->data = json_pack("{s:b, s:o}", "confirmed", 0, "would",
			      shown ? json_incref(shown) : json_object());
	out->text = ds_xprintf("nothing changed: did not %s", what);
}

/* Nobody at a terminal to ask: a command that asks only there goes ahead. */
static int nobody_to_ask(struct ds_session *s, const struct ds_invocation *inv, const char *what)
{
	if (!(ds_invocation_flags(inv) & DS_CMD_DESTRUCTIVE))
		return 1;
	/* A usage error: nothing was tried, so the audit log has nothing to say. */
	ds_error_set(&s->err, DS_ERR_USAGE, "'%s' would %s; in a script it needs --yes",
		     inv->cmd->name, what);
	return ds_error_hint(&s->err,
			     "add --yes to go ahead, or --dry-run to see what it would do");
}

int ds_confirm(struct ds_session *s, const struct ds_invocation *inv, json_t *shown,
	       const char *what, struct ds_result *out)
{
	char *question;
	int yes;

	/* A dry run changes nothing: there is nothing to ask. */
	if (inv->yes || inv->dry_run)
		return 1;
	if (!s->interactive || !s->confirm)
		return nobody_to_ask(s, inv, what);
	question = ds_xprintf("%s?", what);
	yes = s->confirm(s, shown, question);
	free(question);
	if (!yes)
		declined(s, shown, what, out);
	return yes;
}
