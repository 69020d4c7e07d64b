#!/usr/bin/env bash
# The GovStack Registration API against its own specification, with schemathesis (from PyPI,
# in a virtualenv): every operation of the specification, with valid and invalid input, as an
# applicant and as an operator of the demo city. Checks: no server error; invalid input refused
# with a 4xx; content types and response shapes as documented where the specification
# documents the status. The statuses tongban adds to the specification (400 for invalid input,
# 401, 403, 409, 415 — problem+json) are listed in docs/services.md, so undocumented statuses
# are not counted as failures here; nor is every schema-valid request taken (a document must be
# a PDF, JPEG or PNG, an application needs its applicant and a file its document), as the same
# page says.
#
#   e2e/clients/govstack-contract.sh           (after `cargo build --bin tongban`)
#
# The specification comes from $TONGBAN_CONFORMANCE_DIR or ../shared/conformance; without it the
# run is skipped with a note, except under CI=true, where that is a failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
conformance="${TONGBAN_CONFORMANCE_DIR:-$repo/../shared/conformance}"
spec="$conformance/govstack/registration/api/GovStack_Registration_BB_API.json"
if [ ! -f "$spec" ]; then
  if [ "${CI:-}" = true ]; then echo "the GovStack specification is missing: $spec" >&2; exit 1; fi
  echo "note: $spec not found; the GovStack contract test is skipped"
  exit 0
fi
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -u TONGBAN_BIN -u TONGBAN_CONFORMANCE_DIR TONGBAN_LOG=warn "$binary" demo --data-dir "$data" --bind "127.0.0.1:$port" >"$data/demo.log" 2>&1 &
demo=$!
trap 'kill "$demo" 2>/dev/null; wait "$demo" 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  [ -f "$data/demo-credentials.json" ] && curl -sf "$base/readyz" >/dev/null && break
  kill -0 "$demo" 2>/dev/null || { cat "$data/demo.log"; exit 1; }
  sleep 0.5
done
account() { # username field
  python3 -c 'import json, sys
accounts = json.load(open(sys.argv[1]))["accounts"]
print(next(a for a in accounts if a["username"] == sys.argv[2])[sys.argv[3]])' "$data/demo-credentials.json" "$1" "$2"
}
# The calling system: an enterprise's ERP, known here by its USCC.
client="CN/COM/$(account enterprise.qingyuan uscc)/contract-test"

for who in citizen.zhangwei demo.clerk.market; do
  echo "== GovStack Registration contract, as $who"
  "$venv/bin/schemathesis" run "$spec" \
    --url "$base/govstack/registration/v1" \
    -H "Authorization: Bearer $(account "$who" api_token)" \
    -H "Information-Mediator-Client: $client" \
    --checks not_a_server_error,negative_data_rejection,content_type_conformance,response_schema_conformance \
    --max-examples 25 --seed 20261204 --no-color
done
