#!/usr/bin/env bash
# Prints raw, gzip (-9) and brotli (-q 11) sizes of the release bundle: what a browser downloads
# on first load. The server sends the precompressed .br (or .gz) copies that compress-dist.sh makes.
set -euo pipefail
dir="${1:-dist}"
shopt -s nullglob
have_brotli=$(command -v brotli >/dev/null && echo 1 || echo 0)
printf '%-40s %10s %10s %10s\n' file raw gzip brotli
total_raw=0; total_gz=0; total_br=0
for f in "$dir"/*.{html,css,js,wasm}; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  if [ "$have_brotli" = 1 ]; then br=$(brotli -q 11 -c "$f" | wc -c); else br=0; fi
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br))
  printf '%-40s %10d %10d %10d\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
printf '%-40s %10d %10d %10d\n' TOTAL "$total_raw" "$total_gz" "$total_br"
awk -v t="$total_gz" -v b="$total_br" 'BEGIN { printf "first load: %.1f KB gzip (budget 150 KB), %.1f KB brotli\n", t / 1000, b / 1000 }'
