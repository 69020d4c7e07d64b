#!/usr/bin/env bash
# The cluster check: tongban nodes over one PostgreSQL, reached through PgBouncer in
# transaction mode with TLS on both legs (node → PgBouncer verify-full, PgBouncer → PostgreSQL
# verify-full), behind HAProxy. `tongban bench cluster` drives mixed load through HAProxy,
# times a colour change until every node shows it, and checks that each run-once job ran on
# one node only; it exits 1 when a check fails.
#
#   cluster.sh --short   two nodes, a short load (CI)
#   cluster.sh --long    the figures of docs/BENCHMARKS.md: `tongban bench pass-http` and
#                        `tongban bench checkins-http` through HAProxy with one, two and three
#                        nodes (each node's cache counts after each), the checks on three,
#                        then failover.sh (two members under Patroni, the primary killed)
#   cluster.sh --scale   --long without the failover
#   cluster.sh --pgbouncer   only print the path of a PgBouncer new enough (building it)
#
# It needs a running PostgreSQL that serves TLS with a certificate for localhost, and:
#   TLS_DIR    ca.pem (the authority PostgreSQL's certificate comes from), server.pem and
#              server.key (a certificate for localhost from it, which PgBouncer serves)
#   PG_PORT    PostgreSQL's port (default 5432); the role tongban/tongban may create databases
#   TONGBAN_BIN  the binary (default target/debug/tongban; --long wants a release build)
# PgBouncer ≥ 1.21 (prepared statements in transaction mode) is used from PATH when it is new
# enough, else built once from Debian's source package into $TONGBAN_TOOLS (default
# ~/.cache/tongban-tools). HAProxy is Debian's.
set -euo pipefail
mode=${1:---short}
case "$mode" in --short | --scale | --long | --pgbouncer) ;; *) echo "usage: $0 [--short|--scale|--long|--pgbouncer]" >&2; exit 2 ;; esac

. "$(dirname "$(realpath "$0")")/common.sh"

# PgBouncer: 1.21 added prepared statements in transaction mode (max_prepared_statements);
# Debian 12 ships 1.18, Debian 13 ships 1.24.
pgbouncer_version=1.24.1
pgbouncer_sha256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
new_enough() {
  local v
  v=$("$1" --version 2>/dev/null | awk '/PgBouncer/ {print $2}')
  [ -n "$v" ] && [ "$(printf '%s\n1.21.0\n' "$v" | sort -V | head -1)" = 1.21.0 ]
}
pgbouncer=$(command -v pgbouncer || true)
if [ -z "$pgbouncer" ] || ! new_enough "$pgbouncer"; then
  tools=${TONGBAN_TOOLS:-$HOME/.cache/tongban-tools}
  pgbouncer="$tools/pgbouncer-$pgbouncer_version/bin/pgbouncer"
  if ! new_enough "$pgbouncer"; then
    echo "building PgBouncer $pgbouncer_version from Debian's source package …" >&2
    need_packages build-essential pkg-config libevent-dev libssl-dev curl
    src=$(mktemp -d)
    curl -fsSL -o "$src/pgbouncer.tar.gz" \
      "http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${pgbouncer_version}.orig.tar.gz"
    echo "$pgbouncer_sha256  $src/pgbouncer.tar.gz" | sha256sum -c --quiet
    tar -xzf "$src/pgbouncer.tar.gz" -C "$src"
    (cd "$src/pgbouncer-$pgbouncer_version" \
      && ./configure --prefix="$tools/pgbouncer-$pgbouncer_version" --without-cares \
        --without-pam --without-systemd >/dev/null \
      && make -j"$(nproc)" >/dev/null && make install >/dev/null)
    rm -rf "$src"
  fi
fi
command -v haproxy >/dev/null || need_packages haproxy
# --pgbouncer: only print where a new enough PgBouncer is (failover.sh uses it).
if [ "$mode" = --pgbouncer ]; then echo "$pgbouncer"; exit 0; fi

: "${TLS_DIR:?TLS_DIR: the folder with ca.pem, server.pem and server.key}"
PG_PORT=${PG_PORT:-5432}
bin=${TONGBAN_BIN:-target/debug/tongban}
[ -x "$bin" ] || { echo "no tongban binary at $bin (cargo build --bin tongban)" >&2; exit 2; }
bin=$(realpath "$bin")

work=$(mktemp -d)
chmod 755 "$work"
pids=()
database=tb_test_cluster_$$  # named so that .ci/run clears one a crash left behind
psql_admin() { as_root su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
finish() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_pgbouncer
  wait 2>/dev/null || true
  psql_admin "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log; do echo "--- $log"; grep -v '^ *[0-9]*: \|^ *at ' "$log" | tail -n 30; done
  fi
  rm -rf "$work"
  exit $status
}
trap finish EXIT

psql_admin "CREATE DATABASE $database OWNER tongban" >/dev/null
ca="$TLS_DIR/ca.pem"
direct="postgres://tongban:tongban@localhost:$PG_PORT/$database?sslmode=verify-full&sslrootcert=$ca"
"$bin" migrate --database-url "$direct" >/dev/null

start_pgbouncer "$database" "$PG_PORT"
pooled="postgres://tongban:tongban@localhost:$bouncer_port/$database?sslmode=verify-full&sslrootcert=$ca"

export TONGBAN_MASTER_KEY
TONGBAN_MASTER_KEY=$("$bin" keys generate-master 2>/dev/null | tail -n 1)
export TONGBAN_REGION_CODE=339900 TONGBAN_MAX_DB_CONNECTIONS=24 TONGBAN_LOG=warn

nodes=()
start_node() { # index; the first seeds the demo city
  local port
  port=$(free_port)
  mkdir -p "$work/n$1"
  if [ "$1" = 1 ]; then
    "$bin" demo --load-holders "$holders" --data-dir "$work/n1" --bind "127.0.0.1:$port" \
      --database-url "$pooled" >"$work/node1.log" 2>&1 &
  else
    "$bin" serve --data-dir "$work/n$1" --bind "127.0.0.1:$port" \
      --database-url "$pooled" >"$work/node$1.log" 2>&1 &
  fi
  pids+=($!)
  nodes+=("http://127.0.0.1:$port")
  wait_for "http://127.0.0.1:$port/readyz" 300 "${pids[-1]}"
}

balancer_port=$(free_port)
balance() { # the nodes HAProxy sends to: the first $1
  local i
  {
    printf 'global\n  maxconn 4096\n'
    printf 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n'
    printf 'frontend tongban\n  bind 127.0.0.1:%s\n' "$balancer_port"
    # A holder's own pass always from the same node, which holds that holder in its cache
    # (consistent hashing of the token: adding a node moves only its share); the rest in turn.
    printf '  use_backend holders if { path /api/v1/pass/me }\n  default_backend nodes\n'
    for backend in nodes holders; do
      printf 'backend %s\n  option httpchk GET /readyz\n  http-check expect status 200\n' "$backend"
      if [ "$backend" = holders ]; then
        printf '  balance hdr(Authorization)\n  hash-type consistent\n'
      else
        printf '  balance roundrobin\n'
      fi
      for i in $(seq 1 "$1"); do
        printf '  server n%s %s check inter 1s fall 2 rise 1\n' "$i" "${nodes[$((i - 1))]#http://}"
      done
    done
  } > "$work/haproxy.cfg"
  if [ -n "${haproxy_pid:-}" ]; then kill "$haproxy_pid"; wait "$haproxy_pid" 2>/dev/null || true; fi
  haproxy -f "$work/haproxy.cfg" -db >>"$work/haproxy.log" 2>&1 &
  haproxy_pid=$!
  pids+=($haproxy_pid)
  wait_for "http://127.0.0.1:$balancer_port/readyz" 30 "$haproxy_pid"
}
through="http://127.0.0.1:$balancer_port"

if [ "$mode" = --short ]; then
  holders=200
  start_node 1
  start_node 2
  balance 2
  "$bin" bench cluster --credentials "$work/n1/demo-credentials.json" --through "$through" \
    --nodes "$(IFS=,; echo "${nodes[*]}")" --duration 15s --connections 16 --rounds 3
else
  # Three runs of the check-in bench take 10,000 holders each: a holder scanned again within
  # a minute would be a repeat, folded rather than stored.
  holders=30000
  start_node 1
  for count in 1 2 3; do
    [ "$count" -gt 1 ] && start_node "$count"
    balance "$count"
    echo "== pass-http through HAProxy, $count node(s)"
    "$bin" bench pass-http --credentials "$work/n1/demo-credentials.json" --base-url "$through" \
      --duration 20s --connections 64
    echo "== the holders' cache on each node after it (hits, misses, entries)"
    for node in "${nodes[@]}"; do
      curl -fsS "$node/metrics" | awk -v node="$node" '/cache="HolderInputs"/ {
        split($0, f, " "); n[$0 ~ /outcome="hit"/ ? "hit" : $0 ~ /outcome="miss"/ ? "miss" : "entries"] = f[2]
      } END { printf "%s hits %s misses %s entries %s\n", node, n["hit"], n["miss"], n["entries"] }'
    done
    echo "== checkins-http through HAProxy, $count node(s)"
    "$bin" bench checkins-http --credentials "$work/n1/demo-credentials.json" --base-url "$through" \
      --connections 64 --from $(((count - 1) * 10000)) --count 10000
  done
  echo "== the checks on three nodes"
  "$bin" bench cluster --credentials "$work/n1/demo-credentials.json" --through "$through" \
    --nodes "$(IFS=,; echo "${nodes[*]}")" --duration 30s --connections 64 --rounds 20
  if [ "$mode" = --long ]; then
    echo "== failover of the database under load"
    TONGBAN_BIN="$bin" "$(dirname "$(realpath "$0")")/failover.sh"
  fi
fi
