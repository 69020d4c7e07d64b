# Shared by cluster.sh and failover.sh (sourced, not run): running as root or the postgres
# user, ports, waiting for a node, and PgBouncer.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root su postgres -s /bin/bash -c "$*"; }
need_packages() {
  local missing=()
  for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # url, seconds, the pid that should answer
  for _ in $(seq 1 "$2"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "the process meant to answer at $1 stopped" >&2; return 1; }
    sleep 1
  done
  echo "nothing answered at $1 within $2 s" >&2; return 1
}

# PgBouncer in transaction mode with TLS on both legs (clients: require, with
# $TLS_DIR/server.pem; server: verify-full against $TLS_DIR/ca.pem), run as the postgres user
# (it refuses root) from a copy in $work/bouncer, where its log is. Needs $pgbouncer; sets
# bouncer_port and adds the pid to pids. Stop it with stop_pgbouncer (su does not pass a
# signal on).
#   start_pgbouncer DATABASE SERVER_PORT [SETTING …]
start_pgbouncer() {
  local database=$1 server_port=$2 dir=$work/bouncer
  shift 2
  mkdir -p "$dir"
  install -m 644 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" "$dir/"
  install -m 600 "$TLS_DIR/server.key" "$dir/"
  install -m 755 "$pgbouncer" "$dir/pgbouncer"
  bouncer_port=$(free_port)
  printf '"tongban" "tongban"\n' > "$dir/userlist.txt"
  {
    cat <<INI
[databases]
$database = host=localhost port=$server_port dbname=$database

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_prepared_statements = 200
default_pool_size = 20
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
client_tls_sslmode = require
client_tls_key_file = $dir/server.key
client_tls_cert_file = $dir/server.pem
server_tls_sslmode = verify-full
server_tls_ca_file = $dir/ca.pem
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    printf '%s\n' "$@"
  } > "$dir/pgbouncer.ini"
  chmod 600 "$dir/userlist.txt"
  as_root chown -R postgres "$dir"
  as_root su postgres -s /bin/sh -c "exec '$dir/pgbouncer' '$dir/pgbouncer.ini'" \
    2>"$work/pgbouncer-stderr.log" &
  pids+=($!)
  for _ in $(seq 1 30); do
    (exec 3<>"/dev/tcp/127.0.0.1/$bouncer_port") 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "PgBouncer did not start" >&2; return 1; }
    sleep 0.2
  done
  echo "PgBouncer did not listen on $bouncer_port" >&2; return 1
}

stop_pgbouncer() { as_root pkill -f "$work/bouncer/pgbouncer" 2>/dev/null || true; }
