/* init: create the state schema, or upgrade it to this binary's version. */
#include "../core/util.h"
#include "command.h"

/* One line a person reads: what changed, or that nothing needed to. */
static char *init_summary(const char *schema, const struct ds_init_report *r, int dry_run)
{
	if (r->napplied == 0 && r->definitions_updated)
		return ds_xprintf(
			dry_run ? "would bring the functions of schema '%s' up to date "
				  "(version %d); nothing was changed"
				: "brought the functions of schema '%s' up to date (version %d)",
			schema, r->to_version);
	if (r->napplied == 0)
		return ds_xprintf("schema '%s' is up to date (version %d)", schema, r->to_version);
	if (dry_run)
		return ds_xprintf("would bring schema '%s' from version %d to %d (%d migration%s); "
				  "nothing was changed",
				  schema, r->from_version, r->to_version, r->napplied,
				  r->napplied == 1 ? "" : "s");
	if (r->created)
		return ds_xprintf("created schema '%s' at version %d", schema, r->to_version);
	return ds_xprintf("upgraded schema '%s' from version %d to %d", schema, r->from_version,
			  r->to_version);
}

static int run_init(struct ds_session *s, const struct ds_invocation *inv, struct ds_result *out)
{
	int dry_run = inv->dry_run;
	struct ds_init_report r;
	json_t *applied;

	if (ds_store_init(&s->db, &s->audit, dry_run, &r, &s->err) < 0)
		return -1;
	applied = json_array();
	for (int i = 0; i < r.napplied; i++)
		json_array_append_new(applied,
				      json_pack("{s:i, s:s}", "version", r.applied[i], "name",
						ds_store_migration_name(r.applied[i])));
	out->data = json_pack("{s:s, s:b, s:i, s:i, s:b, s:b, s:o}", "schema", s->db.schema,
			      "created", r.created, "from_version", r.from_version, "to_version",
			      r.to_version, "definitions_updated", r.definitions_updated, "dry_run",
			      dry_run, "migrations", applied);
	out->text = init_summary(s->db.schema, &r, dry_run);
	return 0;
}

const struct ds_command ds_cmd_init = {
	.name = "init",
	.group = "state store",
	.synopsis = "[--dry-run]",
	.summary = "create the state schema, or upgrade it to this version of datashell",
	.description =
		"Applies the migrations this binary carries, then its functions, triggers and\n"
		"grants as they are now, in one transaction, under an advisory lock, so two\n"
		"shells running init at once are safe. Running it again when the schema is\n"
		"current changes nothing.",
	.example = "datashell --schema ops -c init",
	.max_args = 0,
	.flags = DS_CMD_SERVER | DS_CMD_WRITES | DS_CMD_DRY_RUN,
	.run = run_init,
};
