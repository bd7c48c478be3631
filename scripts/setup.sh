#!/usr/bin/env bash
# Installs every tool tokenpair needs, skipping what is already present (idempotent).
# First run on a fresh machine: ~15 minutes (trunk compiles from source); later runs: seconds.
set -euo pipefail

TRUNK_VERSION=0.21.14
# Must equal the wasm-bindgen version pinned in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130
# wasm-opt from npm's binaryen (Debian's 108 breaks wasm-bindgen's reference-types table).
BINARYEN_VERSION=132
TERSER_MAJOR=5
# axe-core: the accessibility rules the e2e suite runs in every view.
AXE_MAJOR=4
TOOLS_DIR="$HOME/.cache/tokenpair/tools"

export PATH="$TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. Debian packages: headless Chromium + chromedriver for browser tests, brotli and zopfli for
#    precompression, openssl for re-hashing the minified JS loader.
missing_apt=()
command -v chromium >/dev/null 2>&1 || missing_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing_apt+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing_apt+=(nodejs npm)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)
command -v brotli >/dev/null 2>&1 || missing_apt+=(brotli)
command -v zopfli >/dev/null 2>&1 || missing_apt+=(zopfli)
command -v openssl >/dev/null 2>&1 || missing_apt+=(openssl)
if [ ${#missing_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing_apt[*]} (about 30 s)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_apt[@]}" >/dev/null
fi

# 2. wasm-opt (binaryen) from the npm registry, into a private prefix.
if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION.0.0"
fi

# 2a. terser (minifies wasm-bindgen's JS loader in release builds: scripts/minify-js.sh).
if ! "$TOOLS_DIR/node_modules/.bin/terser" --version 2>/dev/null | grep -q "^terser $TERSER_MAJOR\."; then
  say "installing terser $TERSER_MAJOR from npm into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error "terser@$TERSER_MAJOR"
fi

# 2a'. axe-core (test path only: the e2e suite injects axe.min.js into every view).
if ! grep -q '"version": "'"$AXE_MAJOR"'\.' "$TOOLS_DIR/node_modules/axe-core/package.json" 2>/dev/null; then
  say "installing axe-core $AXE_MAJOR from npm into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error "axe-core@$AXE_MAJOR"
fi

# 2b. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 3. wasm-bindgen-cli, exactly the version in Cargo.lock (no --locked: see ../shared notes).
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, compiles from source)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 4. trunk (builds the SPA). 0.21.14 is the newest that builds with this rustc; --locked is required.
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 10 minutes the first time, compiles from source)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

# 5. wasm-pack (runs the SPA's browser tests).
if ! command -v wasm-pack >/dev/null 2>&1; then
  say "installing wasm-pack (about 4 minutes the first time, compiles from source)"
  cargo install wasm-pack --locked
fi

say "tools ready: $(trunk --version), $(wasm-bindgen --version), $(wasm-pack --version 2>/dev/null), $(chromium --version 2>/dev/null), wasm-opt $("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}'), $("$TOOLS_DIR/node_modules/.bin/terser" --version)"
