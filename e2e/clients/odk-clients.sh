#!/usr/bin/env bash
# One-form collection (一表通) with the clients ODK users run (from PyPI, in a virtualenv):
#   - pyxform, the reference XLSForm converter: for workbooks covering the supported subset,
#     tongban's XForm must agree with pyxform's part by part (instance, choices, binds,
#     controls), and workbooks pyxform refuses must be refused too (xlsform_compare.py).
#
#   e2e/clients/odk-clients.sh           (after `cargo build --bin tongban`)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
if [ ! -x "$venv/bin/xls2xform" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyxform>=4.0,<5' 'openpyxl>=3.1,<4'
fi
export PATH="$venv/bin:$PATH"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$repo/e2e/clients/xlsform_compare.py" "$binary" "$work/xlsform" > "$work/compare.json" \
  || { cat "$work/compare.json"; echo "tongban's XForms differ from pyxform's"; exit 1; }
"$venv/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("pyxform:", len(d["compared"]), "XLSForms agree,", sum(c["binds"] for c in d["compared"]), "binds;", len(d["refused_by_both"]), "broken workbooks refused by both")' "$work/compare.json"
