#!/usr/bin/env bash
# The demo city's sealed notice as a file, checked by tools that are not tongban's:
#   - pyHanko (PyPI, in a virtualenv) validates its PDF signature against the root the city
#     publishes: intact, valid, trusted, covering the whole file, and shaped as PAdES baseline
#     B (SubFilter ETSI.CAdES.detached; signed attributes content-type, message-digest and
#     signing-certificate-v2; no signing-time attribute, the time being the dictionary's /M);
#   - `tongban office verify` checks the same file offline, pinned to that root, and refuses
#     a copy with one byte changed and a copy checked against another root;
#   - pdftoppm (poppler) renders the first page, and the picture is looked at: an A4 page, red
#     in the organ mark's band at the top, and the text area's ink within its margins.
#
#   e2e/clients/office-clients.sh           (after `cargo build --bin tongban`)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
binary="${TONGBAN_BIN:-$repo/target/debug/tongban}"
venv="${CONTRACT_VENV:-$repo/target/venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyhanko' 2>/dev/null; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyhanko>=0.25,<1'
fi

work="$(mktemp -d)"
pid=""
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap stop EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -u TONGBAN_BIN TONGBAN_LOG=warn "$binary" demo --data-dir "$work/city" --bind "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  [ -f "$work/city/demo-credentials.json" ] && curl -sf "$base/readyz" >/dev/null && break
  sleep 0.5
done
curl -sf "$base/readyz" >/dev/null || { cat "$work/demo.log"; exit 1; }
token="$(python3 -c 'import json, sys
accounts = json.load(open(sys.argv[1]))["accounts"]
print(next(a for a in accounts if a["username"] == "demo.clerk.city")["api_token"])' "$work/city/demo-credentials.json")"

echo "== the sealed notice of the demo city, and the root it publishes"
id="$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/office/documents" | python3 -c 'import json, sys
documents = json.load(sys.stdin)
items = documents["items"] if isinstance(documents, dict) else documents
print(next(d["document_id"] for d in items if d["step"] == "sent"))')"
curl -sf -H "Authorization: Bearer $token" "$base/api/v1/office/documents/$id/pdf" -o "$work/notice.pdf"
curl -sf "$base/api/v1/office/root-certificate" -o "$work/root.pem"
echo "$(wc -c < "$work/notice.pdf") bytes"

echo "== pyHanko validates the signature"
"$venv/bin/python" -W ignore - "$work/notice.pdf" "$work/root.pem" <<'PY'
import sys
from asn1crypto import cms
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

root = load_cert_from_pemder(sys.argv[2])
with open(sys.argv[1], "rb") as f:
    reader = PdfFileReader(f)
    signatures = reader.embedded_signatures
    assert len(signatures) == 1, signatures
    signature = signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))
    print(status.pretty_print_details())
    assert status.intact and status.valid and status.trusted, status
    assert status.coverage.name == "ENTIRE_FILE", status.coverage
    assert status.bottom_line
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "/M" in signature.sig_object
    attributes = {a["type"].native for a in signature.signer_info["signed_attrs"]}
    print("signed attributes:", sorted(attributes))
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= attributes, attributes
    assert "signing_time" not in attributes, "PAdES B-B keeps the time in /M"
PY

echo "== tongban office verify, pinned to the root; a changed byte and another root refused"
"$binary" office verify --root "$work/root.pem" "$work/notice.pdf"
python3 - "$work/notice.pdf" "$work/altered.pdf" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"/Contents <") - 200
data[at] ^= 1
open(sys.argv[2], "wb").write(bytes(data))
PY
if "$binary" office verify --root "$work/root.pem" "$work/altered.pdf"; then
  echo "a changed file should be refused"; exit 1
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=another root" -keyout "$work/other.key" -out "$work/other.pem" 2>/dev/null
if "$binary" office verify --root "$work/other.pem" "$work/notice.pdf"; then
  echo "a file checked against another root should be refused"; exit 1
fi

echo "== pdftoppm renders the first page, and the picture is looked at"
pdftoppm -r 40 -f 1 -l 1 "$work/notice.pdf" "$work/page"
python3 - "$work"/page-*1.ppm <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
# P6 header: magic, width, height, maxval, each followed by whitespace.
parts = data.split(maxsplit=4)
assert parts[0] == b"P6", parts[0]
width, height, pixels = int(parts[1]), int(parts[2]), parts[4]
mm = width / 210
# A4 at 40 dpi: 331 × 468.
assert abs(height / width - 297 / 210) < 0.01, (width, height)
def pixel(x, y):
    i = (y * width + x) * 3
    return pixels[i], pixels[i + 1], pixels[i + 2]
def is_red(p):
    return p[0] > 180 and p[1] < 90 and p[2] < 90
def is_ink(p):
    return min(p) < 160
# The organ mark: red, in the band 35 mm under the text area's top (37 mm from the page's).
band = [pixel(x, y) for y in range(int(70 * mm), int(100 * mm)) for x in range(width)]
red = sum(is_red(p) for p in band)
print("red pixels in the organ mark's band:", red)
assert red > 300, red
# Nothing inked in the left and right margins (28 mm and 26 mm).
margins = [pixel(x, y) for y in range(height) for x in list(range(0, int(24 * mm))) + list(range(width - int(22 * mm), width))]
assert not any(is_ink(p) for p in margins), "ink in the margins"
# The body: black ink in the text area under the red line.
body = [pixel(x, y) for y in range(int(130 * mm), int(250 * mm)) for x in range(int(28 * mm), int(184 * mm))]
dark = sum(max(p) < 100 for p in body)
print("dark pixels in the text area:", dark)
assert dark > 500, dark
PY
[ -z "${OFFICE_PAGE_OUT:-}" ] || cp "$work"/page-*1.ppm "$OFFICE_PAGE_OUT"
echo "office clients: ok"
