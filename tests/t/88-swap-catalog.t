#!/bin/sh
# swap-table and the catalog beyond 85-swap.t's table: a foreign key referencing its own
# table, extended statistics (copied by LIKE under other names, or missing after
# --create-sql), publication membership with a column list and a row filter, all with
# names that need quoting, in a schema that needs quoting; partitioned tables, partitions
# and other relations are refused with the reason.
. "$DS_TOP/tests/lib.sh"
use_fresh_database t_swap_catalog

# A table in a schema that needs quoting, with a foreign key to itself, statistics, a
# replica identity and publications, all with names that need quoting; and the state
# store.
make_fixture() {
	"$DATASHELL" -c init >/dev/null || return 1
	sql '
CREATE SCHEMA "Swap Cat";
CREATE TABLE "Swap Cat"."Tree ""Nodes""" (id integer PRIMARY KEY, "Parent Id" integer,
  a integer, b integer,
  CONSTRAINT "Tree ""Parent""" FOREIGN KEY ("Parent Id") REFERENCES "Swap Cat"."Tree ""Nodes""" (id)
    ON DELETE CASCADE);
INSERT INTO "Swap Cat"."Tree ""Nodes""" SELECT i, greatest(i / 2, 1), i % 7, i % 7 % 3
  FROM generate_series(1, 100) i;
ALTER TABLE "Swap Cat"."Tree ""Nodes""" ALTER COLUMN "Parent Id" SET NOT NULL;
CREATE UNIQUE INDEX "Tree Ident" ON "Swap Cat"."Tree ""Nodes""" ("Parent Id", id);
ALTER TABLE "Swap Cat"."Tree ""Nodes""" REPLICA IDENTITY USING INDEX "Tree Ident";
CREATE STATISTICS "Swap Cat"."Tree ""AB""" (dependencies) ON a, b FROM "Swap Cat"."Tree ""Nodes""";
ALTER STATISTICS "Swap Cat"."Tree ""AB""" SET STATISTICS 300;
COMMENT ON STATISTICS "Swap Cat"."Tree ""AB""" IS $$a and b move together$$;
CREATE STATISTICS public."Tree Sum" ON (a + b), "Parent Id" FROM "Swap Cat"."Tree ""Nodes""";
CREATE PUBLICATION "Pub ""Cols""" FOR TABLE "Swap Cat"."Tree ""Nodes""" (id, "Parent Id", a)
  WHERE ("Parent Id" <> id);
CREATE PUBLICATION pub_whole FOR TABLE "Swap Cat"."Tree ""Nodes""";
	'
}
tree="'\"Swap Cat\".\"Tree \"\"Nodes\"\"\"'"

# Everything but the swap's own tables, to compare before and after a rollback.
catalog_schema() {
	schema_dump -T '*.*_backfill' -T '*.*_old'
}

# The catalog rows each case is about, one line each, naming the table that has them.
foreign_keys() {
	sql "SELECT conrelid::regclass || ': ' || format('%I', conname) || ' ' || pg_get_constraintdef(oid) ||
	            ' ' || convalidated
	     FROM pg_constraint WHERE contype = 'f' AND connamespace <> 'datashell'::regnamespace
	     ORDER BY 1"
}
statistics() {
	sql "SELECT stxrelid::regclass || ': ' || format('%s.%I', stxnamespace::regnamespace,
	            stxname) || ' ' || stxkind::text || ' ' || pg_get_statisticsobjdef_columns(oid) ||
	            ' target ' || stxstattarget || ' ' ||
	            coalesce(obj_description(oid, 'pg_statistic_ext'), '(no comment)')
	     FROM pg_statistic_ext ORDER BY 1"
}
publications() {
	sql "SELECT pubname || ': ' || prrelid::regclass || ' (' || coalesce(prattrs::text, 'all') ||
	            ') ' || coalesce(pg_get_expr(prqual, prrelid), 'every row')
	     FROM pg_publication_rel JOIN pg_publication p ON p.oid = prpubid ORDER BY 1"
}

# The states the cases start from. fixture: the table. started: its swap started and
# the new table filled, b + 1 in every row ($WORK/tree.*: the keys, statistics,
# publications and schema then). checked: checked. swapped: the difference accepted, swapped,
# a delete cascaded through it and the rows put back. rolled_back: rolled back.
# measures: a second table, "Measures", for a start with --create-sql; measures_filled:
# started so and filled ($WORK/measures.*: the statistics, publications and schema then);
# measures_swapped: checked and swapped, a row deleted and put back. partitions: a
# partitioned table, its partition, a view and a plain table.
stage_fixture() {
	use_fresh_database t_swap_catalog
	setup make_fixture
}

fill_tree_backfill() {
	sql 'INSERT INTO "Swap Cat"."Tree ""Nodes""_backfill"
	     SELECT id, "Parent Id", a, b + 1 FROM "Swap Cat"."Tree ""Nodes"""' >/dev/null
}

stage_started() {
	use_stage fixture
	setup "$DATASHELL" -c "swap-table start $tree"
	fill_tree_backfill
	foreign_keys >"$WORK/tree.fks"
	# The copies on the new table get their target and comment: only T's are compared.
	statistics | grep -v '_backfill":' >"$WORK/tree.stats"
	publications >"$WORK/tree.pubs"
	catalog_schema >"$WORK/tree.dump"
}

stage_checked() {
	use_stage started
	setup_failing "$DATASHELL" -c "swap-table check $tree"
}

stage_swapped() {
	use_stage checked
	setup "$DATASHELL" -c "swap-table check $tree --accept checksums --reason 'b + 1'" \
		-c "swap-table swap $tree --yes"
	sql 'INSERT INTO "Swap Cat"."Tree ""Nodes""" VALUES (101, 999, 1, 1)' >/dev/null 2>&1
	setup sql 'DELETE FROM "Swap Cat"."Tree ""Nodes""" WHERE id = 1'
	setup sql 'INSERT INTO "Swap Cat"."Tree ""Nodes""" SELECT id, "Parent Id", a, b + 1
	           FROM "Swap Cat"."Tree ""Nodes""_old"'
}

# What was written to the new table since the swap is lost by design (--lose-writes).
stage_rolled_back() {
	use_stage swapped
	setup "$DATASHELL" -c "swap-table rollback $tree --lose-writes --yes"
}

begin "start --like copies the statistics under other names and not the foreign key"
use_stage fixture
ds -c "swap-table start $tree"
expect_exit 0
fill_tree_backfill
expect_eq "statistics" "$(statistics)" \
'"Swap Cat"."Tree ""Nodes""": "Swap Cat"."Tree ""AB""" {f} a, b target 300 a and b move together
"Swap Cat"."Tree ""Nodes""": public."Tree Sum" {d,f,m,e} "Parent Id", (a + b) target -1 (no comment)
"Swap Cat"."Tree ""Nodes""_backfill": "Swap Cat"."Tree ""Nodes""_backfill_Parent Id_expr_stat" {d,f,m,e} "Parent Id", (a + b) target -1 (no comment)
"Swap Cat"."Tree ""Nodes""_backfill": "Swap Cat"."Tree ""Nodes""_backfill_a_b_stat" {f} a, b target -1 a and b move together'
expect_eq "foreign keys" "$(foreign_keys)" \
'"Swap Cat"."Tree ""Nodes""": "Tree ""Parent""" FOREIGN KEY ("Parent Id") REFERENCES "Swap Cat"."Tree ""Nodes"""(id) ON DELETE CASCADE true'
end_case

begin "check lists the self-referencing key, the statistics and the publications"
use_stage started
ds -c "swap-table check $tree --json"
expect_exit 3
perl -MJSON::PP -e 'local $/; for (@{ decode_json(<STDIN>)->{inventory} }) {
	print "$_->{kind}|$_->{name}|$_->{action}\n" if $_->{kind} =~ /^(foreign key|statistics|publication|replica identity)$/ }' \
	<"$OUT" | LC_ALL=C sort >"$WORK/inventory"
expect_same inventory "$WORK/inventory" <<-'END'
	foreign key|Tree "Parent"|copied to the new table, referencing itself, and validated before the swap
	publication|Pub "Cols"|the new table joins it with columns (id, "Parent Id", a) where ("Parent Id" <> id), and the old one leaves
	publication|pub_whole|the new table joins it, and the old one leaves
	replica identity|using index "Swap Cat"."Tree Ident"|set on the new table
	statistics|"Swap Cat"."Tree ""AB"""|its name goes to the new table's statistics "Tree ""Nodes""_backfill_a_b_stat", and that name to it
	statistics|"Swap Cat"."Tree ""AB"""|its schema, statistics target and comment set on the new table's "Tree ""Nodes""_backfill_a_b_stat"
	statistics|public."Tree Sum"|its name goes to the new table's statistics "Tree ""Nodes""_backfill_Parent Id_expr_stat", and that name to it
	statistics|public."Tree Sum"|its schema, statistics target and comment set on the new table's "Tree ""Nodes""_backfill_Parent Id_expr_stat"
END
end_case

begin "swap: the new table references itself, carries the statistics and the publications"
use_stage checked
ds -c "swap-table check $tree --accept checksums --reason 'b + 1'" \
	-c "swap-table swap $tree --yes"
expect_exit 0
expect_sql "state" "$(swap_state_sql 'Tree "Nodes"')" swapped
expect_eq "foreign keys" "$(foreign_keys)" \
'"Swap Cat"."Tree ""Nodes""": "Tree ""Parent""" FOREIGN KEY ("Parent Id") REFERENCES "Swap Cat"."Tree ""Nodes"""(id) ON DELETE CASCADE true
"Swap Cat"."Tree ""Nodes""_old": "Tree ""Parent""" FOREIGN KEY ("Parent Id") REFERENCES "Swap Cat"."Tree ""Nodes""_old"(id) ON DELETE CASCADE true'
expect_eq "statistics" "$(statistics)" \
'"Swap Cat"."Tree ""Nodes""": "Swap Cat"."Tree ""AB""" {f} a, b target 300 a and b move together
"Swap Cat"."Tree ""Nodes""": public."Tree Sum" {d,f,m,e} "Parent Id", (a + b) target -1 (no comment)
"Swap Cat"."Tree ""Nodes""_old": "Swap Cat"."Tree ""Nodes""_backfill_a_b_stat" {f} a, b target 300 a and b move together
"Swap Cat"."Tree ""Nodes""_old": public."Tree ""Nodes""_backfill_Parent Id_expr_stat" {d,f,m,e} "Parent Id", (a + b) target -1 (no comment)'
expect_eq "publications" "$(publications)" \
'Pub "Cols": "Swap Cat"."Tree ""Nodes""" (1 2 3) ("Parent Id" <> id)
pub_whole: "Swap Cat"."Tree ""Nodes""" (all) every row'
expect_sql "the new rows" 'SELECT sum(b) FROM "Swap Cat"."Tree ""Nodes"""' 187
expect_sql "the statistics were built on the new table" \
	"SELECT count(*) FROM pg_stats_ext WHERE statistics_name = 'Tree \"AB\"'
	        AND tablename = 'Tree \"Nodes\"' AND dependencies IS NOT NULL" 1
sql 'INSERT INTO "Swap Cat"."Tree ""Nodes""" VALUES (101, 999, 1, 1)' >/dev/null 2>"$WORK/fk.err"
grep -q 'violates foreign key constraint "Tree "Parent""' "$WORK/fk.err" ||
	fail "an orphan went in: $(cat "$WORK/fk.err")"
sql 'DELETE FROM "Swap Cat"."Tree ""Nodes""" WHERE id = 1' >/dev/null 2>"$WORK/delete.err"
[ -s "$WORK/delete.err" ] && fail "the delete failed: $(cat "$WORK/delete.err")"
expect_sql "the delete cascades through the new table only" \
	'SELECT (SELECT count(*) FROM "Swap Cat"."Tree ""Nodes""") || $$/$$ ||
	               (SELECT count(*) FROM "Swap Cat"."Tree ""Nodes""_old")' "0/100"
sql 'INSERT INTO "Swap Cat"."Tree ""Nodes""" SELECT id, "Parent Id", a, b + 1
     FROM "Swap Cat"."Tree ""Nodes""_old"' >/dev/null
end_case

begin "rollback restores the keys, the statistics and the publications exactly"
use_stage swapped
fks_before=$(cat "$WORK/tree.fks")
stats_before=$(cat "$WORK/tree.stats")
pubs_before=$(cat "$WORK/tree.pubs")
dump_before=$(cat "$WORK/tree.dump")
ds -c "swap-table rollback $tree --yes"
expect_exit 3
expect_stderr_matches 'error: 2 transactions wrote "Swap Cat"."Tree ""Nodes""" since the swap and not "Swap Cat"."Tree ""Nodes""_old"'
ds -c "swap-table rollback $tree --lose-writes --yes"
expect_exit 0
expect_sql "state" "$(swap_state_sql 'Tree "Nodes"')" "rolled back"
expect_eq "foreign keys" "$(foreign_keys)" "$fks_before
\"Swap Cat\".\"Tree \"\"Nodes\"\"_backfill\": \"Tree \"\"Parent\"\"\" FOREIGN KEY (\"Parent Id\") REFERENCES \"Swap Cat\".\"Tree \"\"Nodes\"\"_backfill\"(id) ON DELETE CASCADE true"
expect_eq "statistics" "$(statistics | grep -v '_backfill":')" "$stats_before"
expect_eq "publications" "$(publications)" "$pubs_before"
expect_sql "the old rows" 'SELECT sum(b) FROM "Swap Cat"."Tree ""Nodes"""' 87
dump_after=$(catalog_schema)
[ "$dump_before" = "$dump_after" ] || fail "the schema differs after rollback:
$(printf '%s\n' "$dump_before" >"$WORK/before"; printf '%s\n' "$dump_after" | diff -u "$WORK/before" -)"
end_case

begin "swap again, then finish: the old table's own key does not keep it"
use_stage rolled_back
ds -c "swap-table swap $tree --yes" -c "swap-table finish $tree --yes"
expect_exit 0
expect_sql "state" "$(swap_state_sql 'Tree "Nodes"')" finished
expect_eq "foreign keys" "$(foreign_keys)" \
'"Swap Cat"."Tree ""Nodes""": "Tree ""Parent""" FOREIGN KEY ("Parent Id") REFERENCES "Swap Cat"."Tree ""Nodes"""(id) ON DELETE CASCADE true'
expect_eq "statistics" "$(statistics | sed 's/ target.*//')" \
'"Swap Cat"."Tree ""Nodes""": "Swap Cat"."Tree ""AB""" {f} a, b
"Swap Cat"."Tree ""Nodes""": public."Tree Sum" {d,f,m,e} "Parent Id", (a + b)'
end_case

# --create-sql: the new definition has no statistics; the swap creates them first.
echo 'CREATE TABLE "Measures_backfill" (id integer PRIMARY KEY, x integer, y integer, z text)' \
	>"$WORK/measures.sql"
measures="'\"Measures\"'"

stage_measures() {
	use_stage fixture
	setup sql 'CREATE TABLE "Measures" (id integer PRIMARY KEY, x integer, y integer);
	     INSERT INTO "Measures" SELECT i, i % 3, i % 4 FROM generate_series(1, 50) i;
	     CREATE STATISTICS "Measures XY" (ndistinct, mcv) ON x, y FROM "Measures";
	     ALTER STATISTICS "Measures XY" SET STATISTICS 50;
	     CREATE STATISTICS measures_expr ON (x * y) FROM "Measures";
	     ALTER TABLE "Measures" REPLICA IDENTITY USING INDEX "Measures_pkey";
	     ALTER PUBLICATION pub_whole ADD TABLE "Measures" (id, y) WHERE (id > 5)'
}

stage_measures_filled() {
	use_stage measures
	setup "$DATASHELL" -c "swap-table start $measures --create-sql $WORK/measures.sql"
	setup sql 'INSERT INTO "Measures_backfill" SELECT *, $$z$$ FROM "Measures"'
	statistics >"$WORK/measures.stats"
	publications >"$WORK/measures.pubs"
	catalog_schema >"$WORK/measures.dump"
}

stage_measures_swapped() {
	use_stage measures_filled
	setup "$DATASHELL" -c "swap-table check $measures" -c "swap-table swap $measures --yes"
	setup sql 'DELETE FROM "Measures" WHERE id = 50'
	setup sql 'INSERT INTO "Measures" VALUES (50, 2, 2, $$z$$)'
}

begin "start --create-sql: the swap creates the missing statistics and gives them their names"
use_stage measures
ds -c "swap-table start $measures --create-sql $WORK/measures.sql"
expect_exit 0
expect_eq "none on the new table" "$(statistics | grep -c _backfill)" 0
sql 'INSERT INTO "Measures_backfill" SELECT *, $$z$$ FROM "Measures"' >/dev/null
stats_before=$(statistics)
pubs_before=$(publications)
dump_before=$(catalog_schema)
ds -c "swap-table check $measures" -c "swap-table swap $measures --yes"
expect_exit 0
expect_eq "statistics" "$(statistics | grep Measures)" \
'"Measures": public."Measures XY" {d,m} x, y target 50 (no comment)
"Measures": public.measures_expr {e} (x * y) target -1 (no comment)
"Measures_old": public."Measures_backfill_Measures XY" {d,m} x, y target 50 (no comment)
"Measures_old": public."Measures_backfill_measures_expr" {e} (x * y) target -1 (no comment)'
expect_eq "publication" "$(publications | grep Measures)" 'pub_whole: "Measures" (1 3) (id > 5)'
expect_sql "replica identity" "SELECT indexrelid::regclass FROM pg_index
	WHERE indrelid = '\"Measures\"'::regclass AND indisreplident" '"Measures_pkey"'
expect_sql "a delete replicates by it" 'DELETE FROM "Measures" WHERE id = 50 RETURNING y' 2
sql 'INSERT INTO "Measures" VALUES (50, 2, 2, $$z$$)' >/dev/null
end_case

begin "rollback after --create-sql restores the statistics; the new table keeps its copies"
use_stage measures_swapped
stats_before=$(cat "$WORK/measures.stats")
pubs_before=$(cat "$WORK/measures.pubs")
dump_before=$(cat "$WORK/measures.dump")
# Row 50 was deleted and inserted again since the swap, as it was: nothing to lose.
ds -c "swap-table rollback $measures --lose-writes --yes"
expect_exit 0
expect_eq "statistics" "$(statistics | grep -v '_backfill":')" "$stats_before"
expect_eq "the copies" "$(statistics | grep '_backfill":' | cut -d' ' -f2)" \
'public."Measures_backfill_Measures
public."Measures_backfill_measures_expr"'
expect_eq "publications" "$(publications)" "$pubs_before"
dump_after=$(catalog_schema)
[ "$dump_before" = "$dump_after" ] || fail "the schema differs after rollback:
$(printf '%s\n' "$dump_before" >"$WORK/before"; printf '%s\n' "$dump_after" | diff -u "$WORK/before" -)"
end_case

stage_partitions() {
	use_stage fixture
	setup sql "CREATE TABLE events (day date NOT NULL, n integer) PARTITION BY RANGE (day);
	           CREATE TABLE \"Events 2024\" PARTITION OF events
	             FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
	           CREATE VIEW events_v AS SELECT * FROM events;
	           CREATE TABLE flat (day date NOT NULL, n integer)"
}

begin "a partitioned table is refused at start, saying why and what to do"
use_stage partitions
ds -c 'swap-table start events'
expect_exit 3
expect_stderr_matches '^datashell: error: "public"."events" is a partitioned table: swap-table swaps plain tables only \(its partitions would stay with the old one\)$'
expect_stderr_matches 'DETACH PARTITION the old one and ATTACH PARTITION the new one'
expect_sql "no swap" "SELECT count(*) FROM datashell.swaps WHERE table_name = 'events'" 0
expect_sql "no new table" "SELECT to_regclass('events_backfill') IS NULL" t
end_case

begin "a partition is refused at start, naming its parent"
use_stage partitions
ds -c "swap-table start '\"Events 2024\"'"
expect_exit 3
expect_stderr_matches '^datashell: error: "public"."Events 2024" is a partition of events: swap-table swaps plain tables only \(the old one would stay attached, the new one would not be\)$'
expect_stderr_matches 'ALTER TABLE events DETACH PARTITION "public"."Events 2024" and ATTACH PARTITION the new one with the same bounds'
expect_sql "no swap" "SELECT count(*) FROM datashell.swaps WHERE table_name = 'Events 2024'" 0
expect_sql "no new table" "SELECT to_regclass('\"Events 2024_backfill\"') IS NULL" t
end_case

begin "a view is refused at start as not a table"
use_stage partitions
ds -c 'swap-table start events_v'
expect_exit 3
expect_stderr_matches '^datashell: error: "public"."events_v" is a view, not a table$'
expect_stderr_matches "^hint: swap-table swaps plain tables: name the table that holds the rows$"
end_case

begin "--create-sql making a partitioned table is refused and leaves nothing"
use_stage partitions
echo 'CREATE TABLE flat_backfill (day date NOT NULL, n integer) PARTITION BY RANGE (day)' \
	>"$WORK/flat.sql"
ds -c "swap-table start flat --create-sql $WORK/flat.sql"
expect_exit 3
expect_stderr_matches '"public"."flat_backfill" is a partitioned table: swap-table swaps plain tables only'
expect_sql "no swap" "SELECT count(*) FROM datashell.swaps WHERE table_name = 'flat'" 0
expect_sql "no new table" "SELECT to_regclass('flat_backfill') IS NULL" t
end_case

done_testing
