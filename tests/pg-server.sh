# pg-server.sh: a throwaway PostgreSQL server for the tests and benchmarks. Source it,
# then pg_server_start DIR: initdb in DIR, Unix socket in DIR only, no TCP; as root the
# server runs as the postgres user. pg_server_stop stops it; the caller removes DIR.
# On success PGHOST, PGUSER and PGDATABASE point at it and PG_BINDIR names its tools.

PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PG_BINDIR" ] || PG_BINDIR=$(dirname "$(command -v initdb)")
PG_SERVER_DIR=""
PG_SERVER_SETTINGS=""
# As root the servers run as the postgres user.
PG_AS_SERVER=""
if [ "$(id -u)" = 0 ]; then
	PG_AS_SERVER="runuser -u postgres --"
fi

pg_server_start() {	# DIR [postgres -c settings...]
	PG_SERVER_DIR=$1
	shift
	PG_SERVER_SETTINGS="$*"
	pg_cluster_start "$PG_SERVER_DIR" "$@" || return 1
	unset PGSERVICE PGSERVICEFILE PGHOSTADDR PGPORT PGPASSWORD PGOPTIONS DATASHELL_SCHEMA
	export PGHOST="$PG_SERVER_DIR" PGUSER=postgres PGDATABASE=postgres PG_BINDIR
}

pg_server_stop() {
	[ -n "$PG_SERVER_DIR" ] || return 0
	pg_cluster_stop "$PG_SERVER_DIR"
}

# Start the server pg_server_stop stopped again, with its socket and settings: what a
# client sees when a server restarts.
pg_server_again() {
	pg_cluster_again "$PG_SERVER_DIR" $PG_SERVER_SETTINGS
}

# A cluster in DIR, independent of any other (the server above is one): initdb, then
# started on a Unix socket in DIR only, user postgres, trusted. Nothing in the
# environment points at it; a client names host=DIR. pg_cluster_stop stops it as in a
# crash, pg_cluster_again starts it again with the settings it is given.
pg_cluster_start() {	# DIR [postgres -c settings...]
	t_cluster=$1
	shift
	chmod 755 "$t_cluster"	# the postgres user must reach its socket and data
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$t_cluster"
	fi
	$PG_AS_SERVER "$PG_BINDIR/initdb" -D "$t_cluster/data" -U postgres --auth=trust \
		--no-sync --encoding=UTF8 --locale=C >"$t_cluster/initdb.log" 2>&1 || {
		cat "$t_cluster/initdb.log" >&2
		return 1
	}
	pg_cluster_again "$t_cluster" "$@" || {
		cat "$t_cluster/server.log" >&2
		return 1
	}
}

pg_cluster_again() {	# DIR [postgres -c settings...]
	t_cluster=$1
	shift
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$t_cluster/data" -l "$t_cluster/server.log" -w \
		-o "-c listen_addresses='' -k $t_cluster $*" start >/dev/null
}

pg_cluster_stop() {	# DIR
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 ||
		true
}

# A streaming standby of the server pg_server_start started: pg_basebackup -R copies it
# into DIR, and the copy starts on a socket of its own (DIR, PORT) with the primary's
# settings; returns once it streams, or fails after SECONDS (default 60). The primary
# listens on the default port. pg_standby_promote makes it a primary;
# pg_standby_stop stops it as pg_server_stop does the primary.
PG_STANDBY_DIR=""

pg_standby_start() {	# DIR PORT [SECONDS]
	PG_STANDBY_DIR=$1
	chmod 755 "$PG_STANDBY_DIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$PG_STANDBY_DIR"
	$PG_AS_SERVER "$PG_BINDIR/pg_basebackup" -h "$PG_SERVER_DIR" -U postgres \
		-D "$PG_STANDBY_DIR/data" -R -X stream -c fast --no-sync \
		>"$PG_STANDBY_DIR/basebackup.log" 2>&1 || {
		cat "$PG_STANDBY_DIR/basebackup.log" >&2
		return 1
	}
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$PG_STANDBY_DIR/data" -l "$PG_STANDBY_DIR/server.log" \
		-w -o "-c listen_addresses='' -k $PG_STANDBY_DIR -p $2 $PG_SERVER_SETTINGS" start \
		>/dev/null || {
		cat "$PG_STANDBY_DIR/server.log" >&2
		return 1
	}
	pg_poll "$PG_STANDBY_DIR" "$2" "SELECT status = 'streaming' FROM pg_stat_wal_receiver" \
		"${3:-60}" || {
		echo "pg_standby_start: the standby does not stream" >&2
		return 1
	}
}

# Promote the standby and wait until it takes writes (pg_ctl promote -w).
pg_standby_promote() {
	$PG_AS_SERVER "$PG_BINDIR/pg_ctl" -D "$PG_STANDBY_DIR/data" -w -t 60 promote >/dev/null
}

pg_standby_stop() {
	[ -n "$PG_STANDBY_DIR" ] || return 0
	pg_cluster_stop "$PG_STANDBY_DIR"
}

# Ask the server on socket DIR and PORT the boolean QUERY every 50 ms until it says
# true: 1 if it has not by SECONDS.
pg_poll() {	# DIR PORT QUERY SECONDS
	t_poll_end=$(($(date +%s) + $4))
	until [ "$("$PG_BINDIR/psql" -X -A -t -h "$1" -p "$2" -U postgres -d postgres \
		-c "$3" 2>/dev/null)" = t ]; do
		[ "$(date +%s)" -lt "$t_poll_end" ] || return 1
		sleep 0.05
	done
}
