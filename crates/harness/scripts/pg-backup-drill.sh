#!/usr/bin/env bash
# The PostgreSQL backup drill: a logical backup (`pg_dump -Fc`, one consistent snapshot) taken
# while a node is under write load, restored into a scratch database with `pg_restore`, and
# checked there: `tongban audit verify` recomputes the whole transparency log and every
# checkpoint, and what the copy holds is counted beside the live database. The load is
# `tongban chaos soak` (door scans and check-ins, applications with uploads, certificates issued,
# checkpoints), which also checks that no answer failed while the dump ran.
#
#   pg-backup-drill.sh      PG_PORT (default 5432; the role tongban/tongban may create
#                           databases), TONGBAN_BIN (default target/debug/tongban),
#                           SECONDS_OF_LOAD (default 60)
set -euo pipefail
here=$(dirname "$(realpath "$0")")
. "$here/common.sh"
PG_PORT=${PG_PORT:-5432}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-60}
bin=$(realpath "${TONGBAN_BIN:-target/debug/tongban}")
live=tb_test_drill_$$ # named so that .ci/run clears one a crash left behind
copy=tb_test_drill_copy_$$
work=$(mktemp -d)
psql_admin() { as_root su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
finish() {
  local status=$?
  wait 2>/dev/null || true
  psql_admin "DROP DATABASE IF EXISTS $live" >/dev/null 2>&1 || true
  psql_admin "DROP DATABASE IF EXISTS $copy" >/dev/null 2>&1 || true
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log "$work"/soak/*.log; do
      [ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; }
    done >&2
  fi
  rm -rf "$work"
  exit $status
}
trap finish EXIT

psql_admin "CREATE DATABASE $live OWNER tongban"
psql_admin "CREATE DATABASE $copy OWNER tongban"
url() { echo "postgres://tongban:tongban@127.0.0.1:$PG_PORT/$1"; }
"$bin" migrate --database-url "$(url $live)" >/dev/null

minutes=$(( (SECONDS_OF_LOAD + 59) / 60 ))
"$bin" chaos soak --minutes "$minutes" --holders 1000 --data-dir "$work/soak" \
  --database-url "$(url $live)" > "$work/soak.json" 2> "$work/soak.log" &
soak=$!
# Wait for the node to be seeded and under load, then dump in the middle of it.
for _ in $(seq 1 600); do
  [ -f "$work/soak/demo-credentials.json" ] && break
  kill -0 "$soak" 2>/dev/null || { echo "the soak stopped before its node was up" >&2; exit 1; }
  sleep 1
done
sleep $(( minutes * 60 / 2 ))
entries_at_dump=$(PGPASSWORD=tongban psql -h 127.0.0.1 -p "$PG_PORT" -U tongban -d "$live" -qtAc "SELECT COUNT(*) FROM ledger_entries")
started=$(date +%s.%N)
PGPASSWORD=tongban pg_dump -h 127.0.0.1 -p "$PG_PORT" -U tongban -Fc -f "$work/live.dump" "$live"
dumped=$(date +%s.%N)
wait "$soak"
PGPASSWORD=tongban pg_restore -h 127.0.0.1 -p "$PG_PORT" -U tongban -d "$copy" --no-owner "$work/live.dump"
# The demo city's region: the log's checkpoints name it.
TONGBAN_REGION_CODE=339900 "$bin" audit verify --data-dir "$work/verify" --database-url "$(url $copy)" > "$work/verify.log" 2>&1 \
  || { echo "tongban audit verify failed on the restored copy" >&2; cat "$work/verify.log" >&2; exit 1; }
count() { PGPASSWORD=tongban psql -h 127.0.0.1 -p "$PG_PORT" -U tongban -d "$1" -qtAc "$2"; }
report=$(python3 - "$work/soak.json" <<EOF
import json, sys
soak = json.load(open(sys.argv[1]))
print(json.dumps({
    "benchmark": "pg-backup-drill",
    "dump_seconds": round($dumped - $started, 2),
    "dump_bytes": $(stat -c %s "$work/live.dump"),
    "log_entries": {"live_when_the_dump_began": $entries_at_dump,
                    "in_the_copy": $(count $copy "SELECT COUNT(*) FROM ledger_entries"),
                    "live_at_the_end": $(count $live "SELECT COUNT(*) FROM ledger_entries")},
    "applications": {"copy": $(count $copy "SELECT COUNT(*) FROM applications"),
                     "live": $(count $live "SELECT COUNT(*) FROM applications")},
    "certificates": {"copy": $(count $copy "SELECT COUNT(*) FROM certificates"),
                     "live": $(count $live "SELECT COUNT(*) FROM certificates")},
    "audit_verify_on_the_copy": "passed",
    "load_answers": soak["answered"], "load_failures": soak["not_success"],
}, indent=2))
EOF
)
echo "$report"
# The copy is one moment between the start and the end of the dump.
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); e=d["log_entries"]; sys.exit(0 if e["live_when_the_dump_began"] <= e["in_the_copy"] <= e["live_at_the_end"] else 1)' "$report" \
  || { echo "the copy's log is not a moment of the live log" >&2; exit 1; }
