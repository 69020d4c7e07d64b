#!/usr/bin/env bash
# Failover under load: a PostgreSQL primary with a synchronous standby (streaming replication,
# both made here as clusters of their own), HAProxy in TCP mode sending to the primary and to
# the standby only when the primary is down, PgBouncer in transaction mode behind that address
# (TLS verify-full end to end), two tongban nodes behind an HTTP HAProxy. `tongban bench
# failover` drives the gate, each holder once; meanwhile this script kills the primary
# (SIGKILL to its postmaster) and promotes the standby, as Patroni would after noticing. The
# bench checks that every acknowledged check-in is stored, that every other answer was 503,
# and that the nodes answer again without a restart, and reports the seconds of unavailability.
#
#   failover.sh            TLS_DIR as for cluster.sh; TONGBAN_BIN (a release build is best)
#
# Environment: KILL_AFTER (s of load before the kill, default 15), PROMOTE_AFTER (s from the
# kill to the promotion, default 2), DURATION (s of load, default 45), HOLDERS (default 15000).
set -euo pipefail
: "${TLS_DIR:?TLS_DIR: the folder with ca.pem, server.pem and server.key}"
bin=$(realpath "${TONGBAN_BIN:-target/release/tongban}")
KILL_AFTER=${KILL_AFTER:-15}
PROMOTE_AFTER=${PROMOTE_AFTER:-2}
DURATION=${DURATION:-45}
HOLDERS=${HOLDERS:-15000}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
here=$(dirname "$(realpath "$0")")

. "$here/common.sh"
pgbouncer=$("$here/cluster.sh" --pgbouncer)

work=$(mktemp -d)
chmod 755 "$work"
pids=()
finish() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_pgbouncer
  wait 2>/dev/null || true
  for data in "$work/primary" "$work/standby"; do
    [ -f "$data/postmaster.pid" ] && as_postgres "$pgbin/pg_ctl -D $data -m immediate stop" >/dev/null 2>&1 || true
  done
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log; do echo "--- $log"; grep -v '^ *[0-9]*: \|^ *at ' "$log" | tail -n 20; done
  fi
  rm -rf "$work"
  exit $status
}
trap finish EXIT

install -m 644 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" "$work/"
install -m 600 "$TLS_DIR/server.key" "$work/"
as_root chown -R postgres "$work"

# The primary: synchronous replication to the standby named "standby".
primary_port=$(free_port)
as_postgres "$pgbin/initdb -D $work/primary -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null"
as_postgres "cat >> $work/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$work'
max_connections = 200
ssl = on
ssl_cert_file = '$work/server.pem'
ssl_key_file = '$work/server.key'
wal_level = replica
max_wal_senders = 4
synchronous_commit = on
EOF
# The standby's replication connection, ahead of initdb's rules (the first that matches wins).
as_postgres "sed -i '1i host replication postgres 127.0.0.1/32 trust' $work/primary/pg_hba.conf"
as_postgres "$pgbin/pg_ctl -D $work/primary -l $work/primary.log -w start >/dev/null"
as_postgres "psql -h $work -p $primary_port -U postgres -qc \"CREATE ROLE tongban LOGIN PASSWORD 'tongban'\""
as_postgres "psql -h $work -p $primary_port -U postgres -qc 'CREATE DATABASE tongban OWNER tongban'"

# The standby: a base backup of the primary, following it.
standby_port=$(free_port)
as_postgres "$pgbin/pg_basebackup -d 'host=127.0.0.1 port=$primary_port user=postgres application_name=standby' -D $work/standby -X stream -R"
# Once promoted, it must not wait for a standby of its own.
as_postgres "cat >> $work/standby/postgresql.conf" <<EOF
port = $standby_port
synchronous_standby_names = ''
EOF
as_postgres "$pgbin/pg_ctl -D $work/standby -l $work/standby.log -w start >/dev/null"
# Synchronous from now on: a commit is acknowledged once the standby has it on disk.
as_postgres "psql -h $work -p $primary_port -U postgres -qc \"ALTER SYSTEM SET synchronous_standby_names = 'standby'\" -c 'SELECT pg_reload_conf()'" >/dev/null
for _ in $(seq 1 30); do
  state=$(as_postgres "psql -h $work -p $primary_port -U postgres -tAc \"SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'\"")
  [ "$state" = sync ] && break
  sleep 1
done
[ "$state" = sync ] || { echo "the standby is not synchronous" >&2; exit 1; }

# HAProxy (TCP) in front of the database: the primary, else the standby.
db_port=$(free_port)
cat > "$work/haproxy-db.cfg" <<EOF
defaults
  mode tcp
  timeout connect 1s
  timeout client 1h
  timeout server 1h
frontend postgres
  bind 127.0.0.1:$db_port
  default_backend postgres
backend postgres
  server primary 127.0.0.1:$primary_port check inter 500 fall 2 rise 2 on-marked-down shutdown-sessions
  server standby 127.0.0.1:$standby_port check inter 500 fall 2 rise 2 backup
EOF
haproxy -f "$work/haproxy-db.cfg" -db >>"$work/haproxy-db.log" 2>&1 &
pids+=($!)

# PgBouncer behind it, giving up on a server quickly while the primary is away.
start_pgbouncer tongban "$db_port" "server_connect_timeout = 2" "server_login_retry = 1"

ca="$work/ca.pem"
through_db="postgres://tongban:tongban@localhost:$db_port/tongban?sslmode=verify-full&sslrootcert=$ca"
pooled="postgres://tongban:tongban@localhost:$bouncer_port/tongban?sslmode=verify-full&sslrootcert=$ca"
"$bin" migrate --database-url "postgres://tongban:tongban@localhost:$primary_port/tongban?sslmode=verify-full&sslrootcert=$ca" >/dev/null

export TONGBAN_MASTER_KEY
TONGBAN_MASTER_KEY=$("$bin" keys generate-master 2>/dev/null | tail -n 1)
export TONGBAN_REGION_CODE=339900 TONGBAN_MAX_DB_CONNECTIONS=24 TONGBAN_LOG=warn
nodes=()
for i in 1 2; do
  port=$(free_port)
  mkdir -p "$work/n$i"
  if [ $i = 1 ]; then
    "$bin" demo --load-holders "$HOLDERS" --data-dir "$work/n1" --bind "127.0.0.1:$port" \
      --database-url "$pooled" >"$work/node1.log" 2>&1 &
  else
    "$bin" serve --data-dir "$work/n2" --bind "127.0.0.1:$port" --database-url "$pooled" \
      >"$work/node2.log" 2>&1 &
  fi
  pids+=($!)
  nodes+=("http://127.0.0.1:$port")
  wait_for "http://127.0.0.1:$port/readyz" 900 "${pids[-1]}"
done
web_port=$(free_port)
cat > "$work/haproxy-web.cfg" <<EOF
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend tongban
  bind 127.0.0.1:$web_port
  default_backend nodes
backend nodes
  balance roundrobin
  server n1 ${nodes[0]#http://}
  server n2 ${nodes[1]#http://}
EOF
haproxy -f "$work/haproxy-web.cfg" -db >>"$work/haproxy-web.log" 2>&1 &
pids+=($!)
sleep 1

"$bin" bench failover --credentials "$work/n1/demo-credentials.json" \
  --through "http://127.0.0.1:$web_port" --nodes "$(IFS=,; echo "${nodes[*]}")" \
  --database-url "$through_db" --duration "${DURATION}s" --connections 16 &
bench=$!
sleep "$KILL_AFTER"
kill -9 "$(as_root head -n 1 "$work/primary/postmaster.pid")"
echo "killed the primary at $(date +%T.%N | cut -c1-12)" >&2
sleep "$PROMOTE_AFTER"
as_postgres "$pgbin/pg_ctl -D $work/standby -w promote >/dev/null"
echo "promoted the standby at $(date +%T.%N | cut -c1-12)" >&2
wait "$bench"
