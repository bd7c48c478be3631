#!/usr/bin/env bash
# Prints raw, gzip and brotli sizes of the release bundle: what a browser downloads on first
# load. The gzip column is the server's precompressed .gz copy (zopfli, see compress-dist.sh;
# `gzip -9` where zopfli is missing); `gzip -9` is printed too for comparison.
set -euo pipefail
dir="${1:-dist}"
shopt -s nullglob
gz() { if command -v zopfli >/dev/null; then zopfli --i15 -c "$1" | wc -c; else gzip -9 -c "$1" | wc -c; fi; }
br() { if command -v brotli >/dev/null; then brotli -q 11 -c "$1" | wc -c; else echo 0; fi; }
printf '%-40s %10s %10s %10s %10s\n' file raw 'gzip -9' gzip brotli
total_raw=0; total_g9=0; total_gz=0; total_br=0
for f in "$dir"/*.{html,css,js,wasm}; do
  raw=$(stat -c %s "$f"); g9=$(gzip -9 -c "$f" | wc -c); z=$(gz "$f"); b=$(br "$f")
  total_raw=$((total_raw + raw)); total_g9=$((total_g9 + g9)); total_gz=$((total_gz + z)); total_br=$((total_br + b))
  printf '%-40s %10d %10d %10d %10d\n' "$(basename "$f")" "$raw" "$g9" "$z" "$b"
done
printf '%-40s %10d %10d %10d %10d\n' TOTAL "$total_raw" "$total_g9" "$total_gz" "$total_br"
awk -v g9="$total_g9" -v z="$total_gz" -v b="$total_br" 'BEGIN {
  printf "first load: %.1f KB gzip as served (%.1f KB with gzip -9), %.1f KB brotli as served to browsers that accept br; budget 150 KB gzip\n", z / 1000, g9 / 1000, b / 1000 }'
