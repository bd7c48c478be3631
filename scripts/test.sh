#!/usr/bin/env bash
# Runs tokenpair's three test layers and prints one summary line.
#   scripts/test.sh all      lint + native + wasm + e2e (what `make test` runs)
#   scripts/test.sh native   cargo test for api/, testkit/ and server/: the whole suite on SQLite,
#                            the server's integration tests again on PostgreSQL (a throwaway
#                            cluster from scripts/pg.sh), the two-instance tests on PostgreSQL
#   scripts/test.sh wasm     wasm-pack test --headless --chrome (the SPA, in Chromium)
#   scripts/test.sh e2e      the e2e crate: real Chromium against the real release server + SPA
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tokenpair/target}"
export PATH="$HOME/.cache/tokenpair/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
what="${1:-all}"
logs="$(mktemp -d)"
failed_layers=()
passed_layers=()

run_layer() {
  local name="$1"; shift
  printf '\n\033[1;34m== %s: %s\033[0m\n' "$name" "$*"
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    passed_layers+=("$name")
  else
    failed_layers+=("$name")
  fi
}

build_for_e2e() {
  trunk build --release && bash scripts/compress-dist.sh dist &&
    cargo build --release -p tokenpair-server --bin tokenpair-server
}

case "$what" in all|native|wasm|e2e) ;; *) echo "usage: $0 [all|native|wasm|e2e]" >&2; exit 2 ;; esac

if [ "$what" = all ]; then
  run_layer lint bash -c 'cargo fmt --all -- --check &&
    cargo clippy -q -p tokenpair-api -p tokenpair-server -p tokenpair-testkit -p tokenpair-bench -p tokenpair-e2e --all-targets -- -D warnings &&
    cargo clippy -q -p tokenpair --target wasm32-unknown-unknown --all-targets -- -D warnings'
fi
# Both backends under one throwaway PostgreSQL cluster. The two-instance tests always use
# PostgreSQL, so the second pass leaves them out (`--skip two_instances_`) instead of running
# them twice.
native_both_backends() {
  local status=0
  echo "-- SQLite (and the two-instance tests on PostgreSQL)"
  TOKENPAIR_TEST_BACKEND=sqlite cargo test -p tokenpair-api -p tokenpair-testkit -p tokenpair-server || status=1
  echo "-- PostgreSQL"
  TOKENPAIR_TEST_BACKEND=postgres cargo test -p tokenpair-server --tests -- --skip two_instances_ || status=1
  return $status
}
export -f native_both_backends
if [ "$what" = all ] || [ "$what" = native ]; then
  run_layer native bash scripts/pg.sh bash -c native_both_backends
fi
if [ "$what" = all ] || [ "$what" = wasm ]; then
  run_layer wasm wasm-pack test --headless --chrome --mode no-install
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  run_layer build-e2e build_for_e2e
  if [[ " ${failed_layers[*]} " != *" build-e2e "* ]]; then
    TOKENPAIR_DIST="$PWD/dist" run_layer e2e cargo test -p tokenpair-e2e -- --test-threads=1 --show-output
  fi
fi

# Count individual tests from every runner's "test result:" lines.
passed=0; failedn=0
while read -r p f; do passed=$((passed + p)); failedn=$((failedn + f)); done < <(
  cat "$logs"/*.log 2>/dev/null | sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p')
echo
echo "layers passed: ${passed_layers[*]:-none}; layers failed: ${failed_layers[*]:-none}"
echo "tests: $passed passed, $failedn failed"
rm -rf "$logs"
[ ${#failed_layers[@]} -eq 0 ]
