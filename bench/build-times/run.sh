#!/usr/bin/env bash
# Times what a developer waits for after editing one handler: an incremental `cargo build` of
# the binary, and `cargo test` of the edited module's tests. Edits the handler (one trace line
# at the top of its body), builds, and restores the file. Usage:
#   bench/build-times/run.sh FILE 'async fn NAME(' TEST_FILTER [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
file=$1 handler=$2 filter=$3 rounds=${4:-3}
backup=$(mktemp)
cp "$file" "$backup"
trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
cargo build --bin tongban --tests -q 2>/dev/null
edit() {
  cp "$backup" "$file"
  # The first `{` after the handler's signature opens its body.
  awk -v handler="$handler" -v n="$1" '
    index($0, handler) { inside = 1 }
    inside && /\{$/ { print; print "    tracing::trace!(\"edit " n "\");"; inside = 0; next }
    { print }' "$backup" >"$file"
}
seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $start" | bc; }
for round in $(seq 1 "$rounds"); do
  edit "b$round"
  build=$(seconds cargo build --bin tongban)
  edit "t$round"
  test=$(seconds cargo test --workspace --test api -- "$filter")
  printf 'round %s: incremental build %.1f s, cargo test of %s %.1f s\n' "$round" "$build" "$filter" "$test"
done
