#!/usr/bin/env bash
# One-form collection (一表通) with the clients ODK users run (from PyPI, in a virtualenv):
#   - pyxform, the reference XLSForm converter: for workbooks covering the supported subset,
#     tongban's XForm must agree with pyxform's part by part (instance, choices, binds,
#     controls), and workbooks pyxform refuses must be refused too (xlsform_compare.py);
#   - pyodk, ODK Central's Python client, and the OpenRosa protocol as ODK Collect speaks it,
#     against a demo city (odk_pyodk.py): forms uploaded and approved, submissions sent,
#     listed and read as the OData table, the same instance kept once, app users' devices,
#     entity lists and their entities (made one by one and in bulk, versioned, the table; made
#     by submissions of a form with an entities sheet once pyodk approves them; sent to
#     devices as the CSV file of a form that chooses from them).
#
#   - schemathesis, from ODK Central's own API document (odk_schema.py): the operations tongban
#     serves at Central's addresses fuzzed as the staff of the demo's civil-affairs project —
#     no server error, statuses, content types and bodies as the document gives them. The
#     document comes from $TONGBAN_CONFORMANCE_DIR or ../shared/conformance; without it that
#     part is skipped with a note, except under CI=true, where it is a failure.
#
#   e2e/clients/odk-clients.sh           (after `cargo build --bin tongban`)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
conformance="${TONGBAN_CONFORMANCE_DIR:-$repo/../shared/conformance}"
central_api="$conformance/odk/central-api.yaml"
if [ ! -f "$central_api" ] && [ "${CI:-}" = true ]; then
  echo "ODK Central's API document is missing: $central_api" >&2
  exit 1
fi
if [ ! -x "$venv/bin/xls2xform" ] || [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/python" -c 'import pyodk' 2>/dev/null; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyxform>=4.0,<5' 'openpyxl>=3.1,<4' \
    'pyodk>=1.3,<2' 'requests>=2.31,<3' 'schemathesis>=4.3,<5'
fi
export PATH="$venv/bin:$PATH"
work="$(mktemp -d)"
pid=""
finish() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap finish EXIT

"$venv/bin/python" "$repo/e2e/clients/xlsform_compare.py" "$binary" "$work/xlsform" > "$work/compare.json" \
  || { cat "$work/compare.json"; echo "tongban's XForms differ from pyxform's"; exit 1; }
"$venv/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("pyxform:", len(d["compared"]), "XLSForms agree,", sum(c["binds"] for c in d["compared"]), "binds;", len(d["refused_by_both"]), "broken workbooks refused by both")' "$work/compare.json"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/city"
env -u TONGBAN_BIN TONGBAN_LOG=warn "$binary" demo --data-dir "$work/city" --bind "127.0.0.1:$port" >"$work/city/demo.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ -f "$work/city/demo-credentials.json" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/city/demo.log"; exit 1; }
"$venv/bin/python" "$repo/e2e/clients/odk_pyodk.py" "http://127.0.0.1:$port" "$work/city/demo-credentials.json" "$work/pyodk" \
  > "$work/pyodk.json" || { cat "$work/pyodk.json"; echo "the ODK clients failed"; exit 1; }
"$venv/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("pyodk:", d["pyodk"]["submitted"], "submitted, OData rows", d["pyodk"]["table_rows"], "and", d["pyodk"]["survey_rows"], "of the demo survey; OpenRosa: resubmission", d["openrosa"]["resubmission"], "other content", d["openrosa"]["conflict"], "; entities:", d["entities"], "; entity list as CSV rows:", d["openrosa_entity_list"])' "$work/pyodk.json"

if [ -f "$central_api" ]; then
  civil="$("$venv/bin/python" -c 'import json,sys; print(next(a["api_token"] for a in json.load(open(sys.argv[1]))["accounts"] if a["username"] == "demo.clerk.civil"))' "$work/city/demo-credentials.json")"
  "$venv/bin/python" "$repo/e2e/clients/odk_schema.py" "$central_api" "http://127.0.0.1:$port" "$civil" "$work/schema" \
    "${ODK_SCHEMA_EXAMPLES:-30}" > "$work/schema.txt" \
    || { cat "$work/schema/report.txt"; echo "tongban's ODK routes break ODK Central's API document"; exit 1; }
  echo "Central API document: $(grep -E "Selected:" "$work/schema.txt" | tr -s " ") operations;$(grep -E "generated," "$work/schema.txt" | tr -s " ")"
else
  echo "note: $central_api not found; the check against ODK Central's API document is skipped"
fi
