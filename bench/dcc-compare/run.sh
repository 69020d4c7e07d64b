#!/usr/bin/env bash
# DCC verification side by side on this machine and on the same HC1 codes: tongban (in
# process, `tongban bench dcc-verify`), the npm package @pathcheck/dcc-sdk and the PyPI package
# pycose (with base45 and cbor2). The packages are installed from their registries into a
# scratch directory at run time; nothing here is part of the test run.
#
#   bench/dcc-compare/run.sh [DCC_TESTDATA_DIR]     (DURATION=10 seconds by default per measurement)
#
# Two adjustments, both only to make the packages run at all:
# - cbor2 is held below 6: pycose 1.1 expects CBOR arrays as lists, cbor2 6 returns tuples.
# - @pathcheck/dcc-sdk loads its ES modules through the `esm` package, which cannot parse its
#   own dependencies on Node 20; it is bundled with esbuild instead, code unchanged.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${DURATION:-10}
data=${1:-${TONGBAN_CONFORMANCE_DIR:-$root/../shared/conformance}/dcc/testdata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && cargo build --release -q -p tongban)
"$root/target/release/tongban" bench dcc-verify "$data" --export "$work/codes.json" \
  --millis-per-case $((seconds * 1000)) 2>/dev/null > "$work/tongban.json"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pycose base45 'cbor2<6'
"$work/venv/bin/python" "$here/verify_pycose.py" "$work/codes.json" "$seconds" > "$work/pycose.json"

(cd "$work" && npm init -y > /dev/null && npm install -s @pathcheck/dcc-sdk esbuild > /dev/null \
  && npx esbuild node_modules/@pathcheck/dcc-sdk/lib/main.js --bundle --platform=node \
       --format=cjs --outfile=sdk.cjs --log-level=error)
DCC_SDK_BUNDLE="$work/sdk.cjs" node "$here/verify_dcc_sdk.mjs" "$work/codes.json" "$seconds" \
  > "$work/dcc-sdk.json"

python3 - "$work" <<'PY'
import json, sys, pathlib
work = pathlib.Path(sys.argv[1])
tongban = json.loads((work / "tongban.json").read_text())
others = [json.loads((work / f).read_text()) for f in ("dcc-sdk.json", "pycose.json")]
fastest = max(others, key=lambda o: o["verifications_per_second"])
one = tongban["verifications_per_second_one_core"]
every = tongban["verifications_per_second_all_cores"]
print(json.dumps({
    "codes": tongban["codes"],
    "machine": tongban["machine"],
    "tongban_one_core": round(one),
    "tongban_all_cores": round(every),
    "tongban_with_schema_one_core": round(tongban["with_schema_one_core"]),
    "others": [{k: (round(v) if isinstance(v, float) else v) for k, v in o.items()} for o in others],
    "faster_other": fastest["verifier"],
    "ratio_one_core": round(one / fastest["verifications_per_second"], 1),
    "ratio_all_cores": round(every / fastest["verifications_per_second"], 1),
}, indent=2))
PY
