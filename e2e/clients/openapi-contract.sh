#!/usr/bin/env bash
# tongban's own API against its own OpenAPI document (/api/openapi.json), with schemathesis (from
# PyPI, in a virtualenv), once as each role of the demo city: every operation, with examples
# generated from its schemas, the coverage phase's edge cases and invalid input, and the
# stateful phase's chains of calls. Checks: all of schemathesis's, among them no server error,
# every status, content type, header and body as the document says, invalid input refused, and
# `ignored_auth` — an operation that declares a login refuses a call without one. Not counted:
# `positive_data_acceptance`, since a request the schema allows may still break a rule of the
# domain (an ID number's check digit, a form's fields, the state of an application) and is then
# refused with 422, as the document says.
#
#   e2e/clients/openapi-contract.sh [max examples per operation, default 5]
#                                    (after `cargo build --bin tongban`)
#
# Prints each role's summary; exits 1 when any check failed for any role.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
examples="${1:-5}"
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

data="$(mktemp -d)"
# schemathesis keeps its cache in the working directory: keep it out of the repository.
cd "$data"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -u TONGBAN_BIN TONGBAN_LOG=warn "$binary" demo --data-dir "$data" --bind "127.0.0.1:$port" >"$data/demo.log" 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null; wait "$demo" 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  [ -f "$data/demo-credentials.json" ] && curl -sf "$base/readyz" >/dev/null && break
  kill -0 "$demo" 2>/dev/null || { cat "$data/demo.log"; exit 1; }
  sleep 0.5
done
# The first demo account of each role: "role username token" per line.
accounts="$(python3 -c 'import json, sys
seen = {}
for a in json.load(open(sys.argv[1]))["accounts"]:
    seen.setdefault(a["role"], a)
for role, a in seen.items():
    print(role, a["username"], a["api_token"])' "$data/demo-credentials.json")"
[ "$(echo "$accounts" | wc -l)" -ge 10 ] || { echo "the demo has fewer roles than expected"; exit 1; }

signed_in() { curl -sf -o /dev/null -H "Authorization: Bearer $1" "$base/api/v1/me"; }
run_schemathesis() { # token report [filters…]
  local token="$1" report="$2"
  shift 2
  "$venv/bin/schemathesis" run "$base/api/openapi.json" "$@" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$examples" --seed 20261205 --no-color >"$report" 2>&1
}
# Ending the caller's own session or token would leave the rest of the run signed out: those
# two operations run last, on their own.
own_end=(--include-name "POST /api/v1/auth/logout" --include-name "DELETE /api/v1/me/tokens/{id}")
# The roles run two at a time (each run is one client making one call at a time; the node
# serves both).
lanes="${CONTRACT_LANES:-2}"
run_role() { # role username token
  local role="$1" username="$2" token="$3" status=0
  signed_in "$token" || { echo "$username cannot sign in before the run" >"$data/$role.status"; return; }
  run_schemathesis "$token" "$data/$role.txt" \
    --exclude-name "POST /api/v1/auth/logout" --exclude-name "DELETE /api/v1/me/tokens/{id}" || status=$?
  # The run was made signed in throughout, not turned away at the door.
  if ! signed_in "$token"; then
    echo "$username was signed out during the run" >"$data/$role.status"
  elif [ "$status" -ne 0 ]; then
    echo "failed" >"$data/$role.status"
  else
    echo "ok" >"$data/$role.status"
  fi
}
# (The demo node is a job of this shell too: wait for the roles' jobs by their ids.)
roles=()
while read -r role username token; do
  if [ "${#roles[@]}" -ge "$lanes" ]; then
    wait "${roles[0]}" || true
    roles=("${roles[@]:1}")
  fi
  run_role "$role" "$username" "$token" </dev/null &
  roles+=("$!")
done <<<"$accounts"
for job in "${roles[@]}"; do wait "$job" || true; done
failed=()
while read -r role username token; do
  echo "== tongban's API against /api/openapi.json, as $username ($role)"
  outcome="$(cat "$data/$role.status" 2>/dev/null || echo "did not finish")"
  case "$outcome" in
    ok) ;;
    failed) failed+=("$role"); cat "$data/$role.txt" ;;
    *) echo "$outcome"; [ -f "$data/$role.txt" ] && cat "$data/$role.txt"; exit 1 ;;
  esac
  grep -E "^  [0-9]+ generated" "$data/$role.txt" || true
done <<<"$accounts"
while read -r role username token; do
  if ! run_schemathesis "$token" "$data/$role-end.txt" "${own_end[@]}"; then
    failed+=("$role (ending its own session)")
    cat "$data/$role-end.txt"
  fi
done <<<"$accounts"
# The node answered every role to the end.
curl -sf "$base/readyz" >/dev/null || { echo "the node is not ready after the runs"; cat "$data/demo.log"; exit 1; }
if [ ${#failed[@]} -gt 0 ]; then
  echo "schemathesis found failures as: ${failed[*]}"
  exit 1
fi
