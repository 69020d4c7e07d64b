#!/usr/bin/env bash
# Failover under load, as an operator runs it: two PostgreSQL members managed by Patroni (with
# etcd; both Debian's) in synchronous mode, HAProxy in TCP mode sending the database address to
# whichever member Patroni's REST API names primary, PgBouncer in transaction mode behind that
# address (TLS verify-full end to end), two tongban nodes behind an HTTP HAProxy. `tongban bench
# failover` drives the gate, each holder once; meanwhile this script takes the primary's machine
# away — its Patroni and its postmaster killed with SIGKILL — and Patroni promotes the
# synchronous standby once the leader key expires. The bench checks that every acknowledged
# check-in is stored, that every other answer was 503, and that the nodes answer again without
# a restart, and reports the seconds of unavailability.
#
#   failover.sh            TLS_DIR as for cluster.sh; TONGBAN_BIN (a release build is best)
#
# Environment: KILL_AFTER (s of load before the kill, default 15), TTL (Patroni's leader key,
# s, default 10), DURATION (s of load, default 60), HOLDERS (default 15000).
set -euo pipefail
: "${TLS_DIR:?TLS_DIR: the folder with ca.pem, server.pem and server.key}"
bin=$(realpath "${TONGBAN_BIN:-target/release/tongban}")
KILL_AFTER=${KILL_AFTER:-15}
TTL=${TTL:-10}
DURATION=${DURATION:-60}
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
  # Patroni and etcd run as postgres under su, which does not pass a signal on.
  as_root pkill -f "patroni $work/" 2>/dev/null || true
  sleep 1
  for data in "$work/pg1" "$work/pg2"; do
    [ -f "$data/postmaster.pid" ] && as_postgres "$pgbin/pg_ctl -D $data -m immediate stop" >/dev/null 2>&1 || true
  done
  as_root pkill -f "etcd --name tb --data-dir $work/" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log; do echo "--- $log"; grep -v '^ *[0-9]*: \|^ *at ' "$log" | tail -n 20; done >&2
  fi
  rm -rf "$work"
  exit $status
}
trap finish EXIT

install -m 644 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" "$work/"
install -m 600 "$TLS_DIR/server.key" "$work/"
as_root chown -R postgres "$work"

# etcd, one member: where Patroni keeps the leader key and the cluster's configuration.
need_packages patroni etcd-server
etcd_port=$(free_port)
etcd_peer=$(free_port)
as_postgres "exec etcd --name tb --data-dir $work/etcd --listen-client-urls http://127.0.0.1:$etcd_port \
  --advertise-client-urls http://127.0.0.1:$etcd_port --listen-peer-urls http://127.0.0.1:$etcd_peer \
  --initial-advertise-peer-urls http://127.0.0.1:$etcd_peer --initial-cluster tb=http://127.0.0.1:$etcd_peer" \
  >"$work/etcd.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$etcd_port/health" 30 "${pids[-1]}"

# Two PostgreSQL members under Patroni, in synchronous mode: a commit is acknowledged once the
# standby has it, and Patroni promotes only a synchronous standby, so a failover loses no
# acknowledged write. The leader key lives TTL seconds; the standby takes it over once the
# primary's Patroni stops renewing it.
declare -A pg_port rest_port
for member in pg1 pg2; do
  pg_port[$member]=$(free_port)
  rest_port[$member]=$(free_port)
  cat > "$work/$member.yml" <<EOF
scope: tongban
name: $member
restapi:
  listen: 127.0.0.1:${rest_port[$member]}
  connect_address: 127.0.0.1:${rest_port[$member]}
etcd3:
  hosts: 127.0.0.1:$etcd_port
log:
  dir: $work/$member-log
bootstrap:
  dcs:
    ttl: $TTL
    loop_wait: 1
    retry_timeout: $(( (TTL - 1) / 2 ))
    synchronous_mode: true
    postgresql:
      parameters:
        max_connections: 200
        wal_level: replica
        max_wal_senders: 4
        synchronous_commit: "on"
  initdb:
    - auth-host: scram-sha-256
    - auth-local: trust
  pg_hba:
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
postgresql:
  listen: 127.0.0.1:${pg_port[$member]}
  connect_address: 127.0.0.1:${pg_port[$member]}
  data_dir: $work/$member
  bin_dir: $pgbin
  pgpass: $work/$member.pgpass
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
  parameters:
    unix_socket_directories: $work
    ssl: "on"
    ssl_cert_file: $work/server.pem
    ssl_key_file: $work/server.key
EOF
  mkdir -p "$work/$member-log"
  as_root chown -R postgres "$work"
  as_postgres "exec patroni $work/$member.yml" >"$work/$member-patroni.log" 2>&1 &
  pids+=($!)
  # The first member bootstraps the cluster; the second joins it by a base backup.
  if [ $member = pg1 ]; then
    wait_for "http://127.0.0.1:${rest_port[pg1]}/primary" 120 "${pids[-1]}"
  fi
done
wait_for "http://127.0.0.1:${rest_port[pg2]}/sync" 120 "${pids[-1]}"
leader_sql() { as_postgres "psql -h $work -p ${pg_port[pg1]} -U postgres -v ON_ERROR_STOP=1 -qc \"$1\""; }
leader_sql "CREATE ROLE tongban LOGIN PASSWORD 'tongban'"
leader_sql "CREATE DATABASE tongban OWNER tongban"

# HAProxy (TCP) in front of the database, sending to whichever member Patroni's REST API says
# is the primary.
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
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500 fall 2 rise 2 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:${pg_port[pg1]} check port ${rest_port[pg1]}
  server pg2 127.0.0.1:${pg_port[pg2]} check port ${rest_port[pg2]}
EOF
haproxy -f "$work/haproxy-db.cfg" -db >>"$work/haproxy-db.log" 2>&1 &
pids+=($!)

# PgBouncer behind it, giving up on a server quickly while the primary is away.
start_pgbouncer tongban "$db_port" "server_connect_timeout = 2" "server_login_retry = 1"

ca="$work/ca.pem"
through_db="postgres://tongban:tongban@localhost:$db_port/tongban?sslmode=verify-full&sslrootcert=$ca"
pooled="postgres://tongban:tongban@localhost:$bouncer_port/tongban?sslmode=verify-full&sslrootcert=$ca"
"$bin" migrate --database-url "postgres://tongban:tongban@localhost:${pg_port[pg1]}/tongban?sslmode=verify-full&sslrootcert=$ca" >/dev/null

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
# The machine of the primary goes: its Patroni first (so it cannot demote or restart anything),
# then its postmaster.
as_root pkill -9 -f "patroni $work/pg1.yml"
kill -9 "$(as_root head -n 1 "$work/pg1/postmaster.pid")"
echo "killed the primary's Patroni and postmaster at $(date +%T.%N | cut -c1-12)" >&2
for _ in $(seq 1 $(( TTL * 10 + 300 ))); do
  curl -fsS -o /dev/null "http://127.0.0.1:${rest_port[pg2]}/primary" 2>/dev/null && break
  sleep 0.1
done
echo "Patroni promoted pg2 at $(date +%T.%N | cut -c1-12)" >&2
wait "$bench"
