#!/usr/bin/env bash
# The open-data portal with the clients its users run (from PyPI, in a virtualenv): pySHACL
# validates the DCAT-AP exports (Turtle, JSON-LD, RDF/XML; the catalogue and one dataset)
# against the DCAT-AP 3.0.1 shapes, zero violations; and CKAN's own command-line client,
# ckanapi, runs against two demo cities:
#   - `ckanapi action` reads (status_show, package_search with facets) and writes as a
#     publisher: a dataset made, a file with planted personal data uploaded (multipart) and held
#     back by the personal-data gate;
#   - `ckanapi search datasets q=…` finds every match;
#   - the round trip: `ckanapi dump datasets --all` from the first city, `ckanapi load
#     datasets` into the second (as each organization's administrator: a department publishes
#     only its own datasets), `ckanapi dump datasets --all` again, and the same datasets come
#     out.
#
#   e2e/clients/opendata-clients.sh           (after `cargo build --bin tongban`)
#
# The shapes come from $TONGBAN_CONFORMANCE_DIR or ../shared/conformance; without them the
# validation is skipped with a note, except under CI=true, where that is a failure. (The
# folder's ranges.ttl names property shapes it does not define, which pySHACL refuses as
# malformed; dcat-ap-SHACL.ttl carries the class and datatype constraints itself.)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
conformance="${TONGBAN_CONFORMANCE_DIR:-$repo/../shared/conformance}"
shapes="$conformance/dcat-ap/3.0.1/dcat-ap-SHACL.ttl"
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
if [ ! -x "$venv/bin/ckanapi" ] || [ ! -x "$venv/bin/pyshacl" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'ckanapi>=4.8,<5' 'pyshacl>=0.30,<1'
fi
ckanapi="$venv/bin/ckanapi"
# dump and load start their workers as `ckanapi` from PATH.
export PATH="$venv/bin:$PATH"

work="$(mktemp -d)"
# start_city runs in a command substitution (a subshell), so the nodes' pids go to a file the
# trap reads: an array would be the subshell's own and the nodes would outlive the script.
stop_cities() {
  local p
  for p in $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=""
    for p in $(cat "$work/pids" 2>/dev/null); do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  rm -rf "$work"
}
trap stop_cities EXIT
start_city() { # name -> prints the base URL once the city is ready
  local dir="$work/$1" port
  mkdir -p "$dir"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  env -u TONGBAN_BIN TONGBAN_LOG=warn "$binary" demo --data-dir "$dir" --bind "127.0.0.1:$port" >"$dir/demo.log" 2>&1 &
  echo $! >> "$work/pids"
  for _ in $(seq 1 120); do
    [ -f "$dir/demo-credentials.json" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$dir/demo.log"; exit 1; }
  echo "http://127.0.0.1:$port"
}
token() { # city username
  python3 -c 'import json, sys
accounts = json.load(open(sys.argv[1]))["accounts"]
print(next(a for a in accounts if a["username"] == sys.argv[2])["api_token"])' "$work/$1/demo-credentials.json" "$2"
}
# The demo's organizations that have an administrator, and who that is.
admins="linjiang-scjg=demo.deptadmin.market linjiang-zwfw=demo.deptadmin linjiang-gaj=demo.deptadmin.police"

a="$(start_city a)"
b="$(start_city b)"
market_a="$(token a demo.deptadmin.market)"
clerk_a="$(token a demo.clerk.market)"

echo "== DCAT-AP 3.0.1: the exports against the shapes, with pySHACL"
if [ -f "$shapes" ]; then
  for path in catalog.ttl catalog.jsonld catalog.rdf dataset/market-entities-monthly.ttl dataset/medical-institutions.jsonld; do
    curl -sf "$a/$path" -o "$work/$(basename "$path")"
    "$venv/bin/python" - "$shapes" "$work/$(basename "$path")" <<'PY'
import sys, rdflib, pyshacl
from rdflib.namespace import SH
shapes = rdflib.Graph().parse(sys.argv[1], format="turtle")
path = sys.argv[2]
syntax = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}[path.rsplit(".", 1)[1]]
data = rdflib.Graph().parse(path, format=syntax)
_, report, text = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
violations = [r for r in report.subjects(rdflib.RDF.type, SH.ValidationResult)
              if report.value(r, SH.resultSeverity) == SH.Violation]
print(f"{path.rsplit('/', 1)[1]}: {len(data)} triples, {len(violations)} violations")
assert len(data) > 20 and not violations, text
PY
  done
elif [ "${CI:-}" = true ]; then
  echo "the DCAT-AP shapes are missing: $shapes" >&2; exit 1
else
  echo "note: $shapes not found; the DCAT-AP validation is skipped"
fi

echo "== ckanapi action: status, a faceted search in Chinese"
"$ckanapi" action status_show -r "$a" -j | python3 -c 'import json, sys; r = json.load(sys.stdin); assert r["api_version"] == 3, r'
"$ckanapi" action package_search -r "$a" q=医疗 'facet.field:["organization","res_format"]' -j > "$work/search.json"
python3 - "$work/search.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["count"] >= 1 and r["results"][0]["name"] == "medical-institutions", r["count"]
assert r["facets"]["res_format"]["CSV"] >= 1, r["facets"]
PY

echo "== ckanapi action as a publisher: a dataset, and an upload the gate holds back"
"$ckanapi" action package_create -r "$a" -a "$market_a" name=food-inspections title=食品安全抽检结果 \
  owner_org=linjiang-scjg license_id=cc-by-4.0 'groups:[{"name": "health"}]' 'tags:[{"name": "食品安全"}]' \
  'resources:[{"name": "国家抽检公告", "url": "https://www.samr.gov.cn/spcjs/", "format": "HTML"}]' -j > /dev/null
printf '抽检单位,负责人,联系电话,结果\n江北区甲超市,王建国,13800138000,合格\n' > "$work/planted.csv"
"$ckanapi" action resource_create -r "$a" -a "$clerk_a" package_id=food-inspections name=抽检明细 \
  upload@"$work/planted.csv" -j > "$work/upload.json"
python3 - "$work/upload.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
kinds = sorted(f["kind"] for f in r["findings"])
assert r["publication"] == "review" and kinds == ["mobile"], r
PY

echo "== ckanapi search datasets"
"$ckanapi" search datasets -r "$a" q=统计 -O "$work/found.jsonl"
python3 - "$work/found.jsonl" <<'PY'
import json, sys
names = [json.loads(line)["name"] for line in open(sys.argv[1])]
assert len(names) == len(set(names)) == 4, names
PY

echo "== the round trip: dump, load into another city, dump again"
"$ckanapi" dump datasets --all -r "$a" -O "$work/a.jsonl" -q
for pair in $admins; do
  org="${pair%%=*}"
  python3 - "$work/a.jsonl" "$org" > "$work/load-$org.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if json.loads(line)["organization"]["name"] == sys.argv[2]:
        print(line.strip())
PY
  "$ckanapi" load datasets -r "$b" -a "$(token b "${pair#*=}")" -I "$work/load-$org.jsonl" -l "$work/load.log" -q
done
python3 - "$work/load.log" <<'PY'
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
failed = [l for l in lines if l[3] is not None]  # [time, record, action, error, response]
assert lines and not failed, failed
PY
"$ckanapi" dump datasets --all -r "$b" -O "$work/b.jsonl" -q
python3 - "$work/a.jsonl" "$work/b.jsonl" "$admins" <<'PY'
import json, sys
orgs = {pair.split("=")[0] for pair in sys.argv[3].split()}
def datasets(path):
    out = {}
    for line in open(path):
        d = json.loads(line)
        if d["organization"]["name"] not in orgs:
            continue
        out[d["name"]] = {
            **{k: d.get(k) for k in ("title", "title_en", "notes", "notes_en", "license_id",
               "frequency", "temporal_start", "temporal_end", "spatial", "source", "private",
               "maintainer", "maintainer_email")},
            "organization": d["organization"]["name"],
            "tags": sorted(t["name"] for t in d["tags"]),
            "groups": sorted(g["name"] for g in d["groups"]),
            "resources": [(r["name"], r["format"], r["url"]) for r in d["resources"]],
        }
    return out
a, b = datasets(sys.argv[1]), datasets(sys.argv[2])
assert "food-inspections" in a, sorted(a)
assert a == b, {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
print(f"{len(a)} datasets round-tripped")
PY
echo "ckanapi: all checks passed"
