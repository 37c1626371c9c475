# pg-server.sh: a throwaway PostgreSQL server for the tests and benchmarks. Source it,
# then pg_server_start DIR: initdb in DIR, Unix socket in DIR only, no TCP; as root the
# server runs as the postgres user. pg_server_stop stops it; the caller removes DIR.
# On success PGHOST, PGUSER and PGDATABASE point at it and PG_BINDIR names its tools.

PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PG_BINDIR" ] || PG_BINDIR=$(dirname "$(command -v initdb)")
PG_SERVER_DIR=""
PG_SERVER_SETTINGS=""
PG_AS_SERVER=""

pg_server_start() {	# DIR [postgres -c settings...]
	PG_SERVER_DIR=$1
	shift
	PG_SERVER_SETTINGS="$*"
	chmod 755 "$PG_SERVER_DIR"	# the postgres user must reach its socket and data
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$PG_SERVER_DIR"
		PG_AS_SERVER="runuser -u postgres --"
	fi
	$PG_AS_SERVER "$PG_BINDIR/initdb" -D "$PG_SERVER_DIR/data" -U postgres --auth=trust \
		--no-sync --encoding=UTF8 --locale=C >"$PG_SERVER_DIR/initdb.log" 2>&1 || {
		cat "$PG_SERVER_DIR/initdb.log" >&2
		return 1
	}
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$PG_SERVER_DIR/data" -l "$PG_SERVER_DIR/server.log" -w \
		-o "-c listen_addresses='' -k $PG_SERVER_DIR $*" start >/dev/null || {
		cat "$PG_SERVER_DIR/server.log" >&2
		return 1
	}
	unset PGSERVICE PGSERVICEFILE PGHOSTADDR PGPORT PGPASSWORD PGOPTIONS DATASHELL_SCHEMA
	export PGHOST="$PG_SERVER_DIR" PGUSER=postgres PGDATABASE=postgres PG_BINDIR
}

pg_server_stop() {
	[ -n "$PG_SERVER_DIR" ] || return 0
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$PG_SERVER_DIR/data" -m immediate -w stop \
		>/dev/null 2>&1 || true
}

# Start the server pg_server_stop stopped again, with its socket and settings: what a
# client sees when a server restarts.
pg_server_again() {
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$PG_SERVER_DIR/data" -l "$PG_SERVER_DIR/server.log" -w \
		-o "-c listen_addresses='' -k $PG_SERVER_DIR $PG_SERVER_SETTINGS" start >/dev/null
}
