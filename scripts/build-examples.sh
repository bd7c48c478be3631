#!/usr/bin/env bash
# Builds the client's browser example against a backend that is not tokenpair's
# (client/examples/third_party_app.rs) into a directory the e2e suite serves it from:
#   $CARGO_TARGET_DIR/examples-dist/third_party_app/{index.html, app.js, app_bg.wasm}
# A debug build (it shares its dependencies with the client's browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tokenpair/target}"
out="$CARGO_TARGET_DIR/examples-dist/third_party_app"
cargo build -q -p tokenpair-client --example third_party_app --target wasm32-unknown-unknown
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name app \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/examples/third_party_app.wasm"
cat > "$out/index.html" <<'HTML'
<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>tokenpair-client against another backend</title></head>
  <body><script type="module">import init from "/app.js"; init();</script></body>
</html>
HTML
echo "examples: third_party_app built into $out"
