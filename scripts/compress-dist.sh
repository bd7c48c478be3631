#!/usr/bin/env bash
# Writes name.gz (and name.br where `brotli` exists) beside every text/wasm asset in DIR, so the
# server can send precompressed files.
set -euo pipefail
dir="${1:-dist}"
shopt -s nullglob
for f in "$dir"/*.{wasm,js,css,html}; do
  gzip -9 -k -f "$f"
  if command -v brotli >/dev/null 2>&1; then brotli -q 11 -f -k "$f"; fi
done
