#!/usr/bin/env bash
# `make run`: install what running needs (only that), build the SPA and the server in release,
# and serve both from one process. Each long step prints an estimate and then its measured time.
#   PORT (default 8080: `make run PORT=9000`), DEMO_USERS (default 1), and any tokenpair-server
#   flag after `--`: scripts/run.sh -- --help
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tokenpair/target}"
export PATH="$HOME/.cache/tokenpair/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
PORT="${PORT:-8080}"
[ "${1:-}" = "--" ] && shift

STEP_TAG=run
# shellcheck source=steps.sh
source scripts/steps.sh
# "about N the first time" if the artifact is missing, else "seconds (already built)".
estimate() { if [ -e "$1" ]; then echo "a few seconds (incremental)"; else echo "$2"; fi; }

started=$SECONDS
bash scripts/setup.sh run

build_spa() { trunk build --release && bash scripts/compress-dist.sh dist; }
step "building the SPA (trunk build --release)" \
  "$(estimate "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/tokenpair.wasm" "about 2 minutes the first time")" \
  build_spa
step "building the server (cargo build --release)" \
  "$(estimate "$CARGO_TARGET_DIR/release/tokenpair-server" "about 3 minutes the first time")" \
  cargo build --release -p tokenpair-server --bin tokenpair-server
took=$((SECONDS - started))
say "ready after $((took / 60)) min $((took % 60)) s"
# The demo accounts (user1/password1, user2/password2) for trying it out: DEMO_USERS=0 to skip.
export DEMO_USERS="${DEMO_USERS:-1}"
exec "$CARGO_TARGET_DIR/release/tokenpair-server" --static-dir dist --port "$PORT" "$@"
