#!/usr/bin/env bash
# Writes name.gz and name.br beside every text/wasm asset in DIR, so the server can send
# precompressed files. The .gz copies come from zopfli (same gzip format, ~5% smaller than
# `gzip -9`; compressed once per build, so its slowness costs nothing at request time).
set -euo pipefail
dir="${1:-dist}"
shopt -s nullglob globstar
# wasm-bindgen's JavaScript snippets (the client's DPoP key) live under snippets/.
for f in "$dir"/*.{wasm,js,css,html} "$dir"/snippets/**/*.js; do
  if command -v zopfli >/dev/null 2>&1; then zopfli --i15 "$f"; else gzip -9 -k -f "$f"; fi
  if command -v brotli >/dev/null 2>&1; then brotli -q 11 -f -k "$f"; fi
done
