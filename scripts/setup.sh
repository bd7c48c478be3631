#!/usr/bin/env bash
# Installs the tools tokenpair needs, skipping what is already present (idempotent).
#
#   scripts/setup.sh run    what `make run` needs: trunk, wasm-bindgen, wasm-opt, terser,
#                           brotli/zopfli/openssl, the wasm target
#   scripts/setup.sh test   all of that, plus what the tests need: Chromium, chromedriver,
#                           wasm-pack, axe-core (PostgreSQL comes with scripts/pg.sh)
#
# Each long step prints an estimate first and its measured time after. The cargo-installed
# tools are build tools, not what we ship: they are compiled without their release profile's
# fat LTO and single codegen unit, and trunk without its update check and TLS (this project
# runs it offline), which cuts the first install from ~19 to a few minutes (docs/performance.md, first make run).
set -euo pipefail

MODE="${1:-test}"
case "$MODE" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

# The installs below use Debian 12's apt. Elsewhere, stop and say what to install by hand.
os_release="${TOKENPAIR_OS_RELEASE:-/etc/os-release}"
os="$( . "$os_release" 2>/dev/null; echo "${ID:-}-${VERSION_ID:-}")"
if [ "$os" != debian-12 ] && [ "${TOKENPAIR_ANY_OS:-0}" != 1 ]; then
  cat >&2 <<MSG
setup: this machine runs $( . "$os_release" 2>/dev/null; echo "${PRETTY_NAME:-an unknown system}"), not Debian 12, whose apt the setup
uses. Install these by hand, then run again with TOKENPAIR_ANY_OS=1 (the setup then installs
only the cargo and npm tools: trunk, wasm-bindgen-cli, wasm-pack, wasm-opt, terser, axe-core):
  - Rust (rustup, stable) with the target wasm32-unknown-unknown
  - Node.js with npm, pkg-config, brotli, zopfli, openssl, OpenSSL's headers (libssl-dev)
  - for the tests: Chromium and the chromedriver of the same version, PostgreSQL 15, 16 or 17
    (its server binaries: initdb, pg_ctl; or set PG_BIN), nginx, systemd-analyze (systemd)
MSG
  exit 1
fi

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
STEP_TAG=setup
# shellcheck source=steps.sh
source "$(dirname "$0")/steps.sh"
# cargo install for a build tool: optimised, but no LTO and many codegen units (fast to build).
fast_cargo_install() {
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=2 \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_INCREMENTAL=false \
    cargo install "$@"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. Debian packages. Running: brotli and zopfli (precompressed copies of dist/), openssl
#    (re-hashing the minified JS loader), npm (wasm-opt and terser). Testing adds headless
#    Chromium and chromedriver.
missing_apt=()
command -v npm >/dev/null 2>&1 || missing_apt+=(nodejs npm)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)
# The server's passkeys (webauthn-rs) link OpenSSL: its headers to build.
pkg-config --exists openssl 2>/dev/null || missing_apt+=(libssl-dev)
command -v brotli >/dev/null 2>&1 || missing_apt+=(brotli)
command -v zopfli >/dev/null 2>&1 || missing_apt+=(zopfli)
command -v openssl >/dev/null 2>&1 || missing_apt+=(openssl)
if [ "$MODE" = test ]; then
  command -v chromium >/dev/null 2>&1 || missing_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing_apt+=(chromium-driver)
  # make cluster and its journeys; the systemd unit's check.
  command -v nginx >/dev/null 2>&1 || missing_apt+=(nginx)
  command -v systemd-analyze >/dev/null 2>&1 || missing_apt+=(systemd)
fi
if [ ${#missing_apt[@]} -gt 0 ]; then
  apt_install() {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_apt[@]}" >/dev/null
  }
  step "installing Debian packages: ${missing_apt[*]}" "about 1 minute" apt_install
fi

# 2. npm tools into a private prefix: wasm-opt (binaryen), terser (minifies wasm-bindgen's JS
#    loader: scripts/minify-release.sh), and for tests axe-core.
npm_install() { mkdir -p "$TOOLS_DIR"; npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error "$@"; }
if [ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
  step "installing wasm-opt (binaryen $BINARYEN_VERSION from npm) into $TOOLS_DIR" "about 20 s" \
    npm_install "binaryen@$BINARYEN_VERSION.0.0"
fi
if ! "$TOOLS_DIR/node_modules/.bin/terser" --version 2>/dev/null | grep -q "^terser $TERSER_MAJOR\."; then
  step "installing terser $TERSER_MAJOR from npm into $TOOLS_DIR" "about 10 s" npm_install "terser@$TERSER_MAJOR"
fi
if [ "$MODE" = test ] &&
  ! grep -q '"version": "'"$AXE_MAJOR"'\.' "$TOOLS_DIR/node_modules/axe-core/package.json" 2>/dev/null; then
  step "installing axe-core $AXE_MAJOR from npm into $TOOLS_DIR" "about 10 s" npm_install "axe-core@$AXE_MAJOR"
fi

# 3. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding rust target wasm32-unknown-unknown" "about 20 s" rustup target add wasm32-unknown-unknown
fi

# 4. wasm-bindgen-cli, exactly the version in Cargo.lock (no --locked: see ../shared notes).
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (compiles from source)" "about 2 minutes" \
    fast_cargo_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 5. trunk (builds the SPA). 0.21.14 is the newest that builds with this rustc; --locked is
#    required. No default features: no update check and no TLS stack (it runs offline and
#    proxies to an http:// backend).
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  step "installing trunk $TRUNK_VERSION (compiles from source)" "about 5 minutes" \
    fast_cargo_install trunk --version "$TRUNK_VERSION" --locked --no-default-features --force
fi

# 6. wasm-pack (runs the browser tests).
if [ "$MODE" = test ] && ! command -v wasm-pack >/dev/null 2>&1; then
  step "installing wasm-pack (compiles from source)" "about 3 minutes" fast_cargo_install wasm-pack --locked
fi

if [ "$MODE" = test ]; then
  say "tools ready: $(trunk --version), $(wasm-bindgen --version), $(wasm-pack --version 2>/dev/null), $(chromium --version 2>/dev/null), wasm-opt $("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}'), $("$TOOLS_DIR/node_modules/.bin/terser" --version)"
else
  say "tools ready: $(trunk --version), $(wasm-bindgen --version), wasm-opt $("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}'), $("$TOOLS_DIR/node_modules/.bin/terser" --version)"
fi
