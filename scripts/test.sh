#!/usr/bin/env bash
# Runs tokenpair's three test layers and prints one summary line.
#   scripts/test.sh all      lint + native + wasm + e2e (what `make test` runs)
#   scripts/test.sh native   cargo test for api/, testkit/ and server/: the whole suite on SQLite,
#                            the server's integration tests again on PostgreSQL (a throwaway
#                            cluster from scripts/pg.sh), the two-instance tests on PostgreSQL
#   scripts/test.sh wasm     wasm-pack test --headless --chrome (the SPA and client/, in Chromium)
#   scripts/test.sh e2e      the e2e crate: real Chromium against the real release server + SPA,
#                            and the client's example app against a second, third-party-shaped
#                            backend
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

fail_layer() { # moves a layer from passed to failed
  local name="$1" kept=() l
  for l in "${passed_layers[@]}"; do [ "$l" = "$name" ] || kept+=("$l"); done
  passed_layers=("${kept[@]}")
  failed_layers+=("$name")
}

# Browser-leak check around the e2e layer. Every process the e2e harness starts inherits
# TOKENPAIR_E2E_RUN (chromedriver, Chromium's browser process and its crash handler, the
# server), and the harness writes each chromedriver's process group to TOKENPAIR_E2E_PGIDS
# (Chromium's zygotes and renderers drop the environment but stay in that group), and so does
# the cluster journey for scripts/cluster.sh's group (nginx clears its environment). So what this
# run left behind is told apart from browsers of other runs on the same machine.
browser_re='^(chromium|chrome|chromedriver|chrome_crashpa|tokenpair-serve|nginx)'
live_browsers() { # pids of live (not zombie) Chromium/chromedriver/server/nginx processes
  ps -eo pid=,stat=,comm= | awk -v re="$browser_re" '$2 !~ /^Z/ && $3 ~ re { print $1 }' | sort # comm wants lexical order
}
started_by_run() { # pid run_id pgid_file: is this process from the given e2e run?
  local pid="$1" pgid
  tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "TOKENPAIR_E2E_RUN=$2" && return 0
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
  [ -n "$pgid" ] && grep -qx "$pgid" "$3" 2>/dev/null
}
run_e2e_layer() {
  local run_id="e2e-$$-$RANDOM" pgids="$logs/e2e-pgids" before after leaked=() others=() pid i
  : > "$pgids"
  before="$(live_browsers)"
  TOKENPAIR_E2E_RUN="$run_id" TOKENPAIR_E2E_PGIDS="$pgids" TOKENPAIR_DIST="$PWD/dist" \
    run_layer e2e bash scripts/pg.sh cargo test -p tokenpair-e2e --no-fail-fast -- --test-threads=1 --show-output
  for i in $(seq 20); do # processes that are on their way out get 10 s
    after="$(live_browsers)"
    leaked=(); others=()
    for pid in $(comm -13 <(echo "$before") <(echo "$after")); do
      if started_by_run "$pid" "$run_id" "$pgids"; then leaked+=("$pid"); else others+=("$pid"); fi
    done
    [ ${#leaked[@]} -eq 0 ] && break
    sleep 0.5
  done
  echo "browser check: $(echo "$before" | grep -c .) Chromium/chromedriver/server processes before e2e," \
    "$(echo "$after" | grep -c .) after; ${#leaked[@]} left by this run," \
    "${#others[@]} new from elsewhere (not counted)"
  if [ ${#leaked[@]} -gt 0 ]; then
    printf '\033[1;31me2e left %d processes running (PIDs %s):\033[0m\n' "${#leaked[@]}" "${leaked[*]}"
    ps -o pid,ppid,pgid,etime,args -p "$(IFS=,; echo "${leaked[*]}")" | cut -c1-160
    echo "Every Browser must end its WebDriver session (e2e/src/browser.rs). Killing them now."
    kill -KILL "${leaked[@]}" 2>/dev/null
    fail_layer e2e
  fi
}

build_for_e2e() {
  trunk build --release && bash scripts/compress-dist.sh dist &&
    cargo build --release -p tokenpair-server --bin tokenpair-server &&
    bash scripts/build-examples.sh
}

case "$what" in all|native|wasm|e2e) ;; *) echo "usage: $0 [all|native|wasm|e2e]" >&2; exit 2 ;; esac

if [ "$what" = all ]; then
  # cargo package verifies the client against the api it just packaged, unpacked under
  # ~/.cargo/registry/src — and reuses an older unpacking of the same version: drop those first.
  run_layer lint bash -c 'cargo fmt --all -- --check &&
    cargo clippy -q -p tokenpair-api -p tokenpair-server -p tokenpair-testkit -p tokenpair-bench -p tokenpair-e2e --all-targets -- -D warnings &&
    cargo clippy -q -p tokenpair -p tokenpair-client --target wasm32-unknown-unknown --all-targets -- -D warnings &&
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tokenpair-api-* "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tokenpair-client-* &&
    cargo package -q -p tokenpair-api -p tokenpair-client --allow-dirty &&
    bash scripts/check-links.sh'
fi
# Both backends under one throwaway PostgreSQL cluster. The two-instance tests always use
# PostgreSQL, so the second pass leaves them out (`--skip two_instances_`) instead of running
# them twice; tests about the SQLite file itself live in `mod sqlite_file` and are SQLite's
# alone (`--skip sqlite_file::`), so the PostgreSQL count holds only tests that ran there.
native_both_backends() {
  local status=0
  echo "-- SQLite (and the two-instance tests on PostgreSQL)"
  TOKENPAIR_TEST_BACKEND=sqlite cargo test --no-fail-fast -p tokenpair-api -p tokenpair-testkit -p tokenpair-server || status=1
  echo "-- PostgreSQL"
  TOKENPAIR_TEST_BACKEND=postgres cargo test --no-fail-fast -p tokenpair-server --tests -- --skip two_instances_ --skip sqlite_file:: || status=1
  return $status
}
export -f native_both_backends
if [ "$what" = all ] || [ "$what" = native ]; then
  run_layer native bash scripts/pg.sh bash -c native_both_backends
fi
if [ "$what" = all ] || [ "$what" = wasm ]; then
  # The SPA (component tests) and the token client (behaviour tests and the multi-tab
  # simulation), each in headless Chromium. The simulation runs for about a minute.
  export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
  # chromedriver gives each browser a 60 MB profile under $TMPDIR and leaves it behind when
  # the test runner stops it: a temporary directory of this layer's own, removed after it.
  wasm_tmp="$(mktemp -d "${TMPDIR:-/tmp}/tokenpair-wasm.XXXXXX")"
  run_layer wasm env TMPDIR="$wasm_tmp" bash -c 'wasm-pack test --headless --chrome --mode no-install &&
    wasm-pack test --headless --chrome --mode no-install client'
  rm -rf "$wasm_tmp"
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  run_layer build-e2e build_for_e2e
  if [[ " ${failed_layers[*]} " != *" build-e2e "* ]]; then
    run_e2e_layer
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
