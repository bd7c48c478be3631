#!/usr/bin/env bash
# Prints raw and gzip sizes of the release bundle (what a browser downloads on first load).
set -euo pipefail
dir="${1:-dist}"
shopt -s nullglob
printf '%-44s %10s %10s\n' file raw gzip
total_raw=0; total_gz=0
for f in "$dir"/*.{html,css,js,wasm}; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9 -c "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
  printf '%-44s %10d %10d\n' "$(basename "$f")" "$raw" "$gz"
done
printf '%-44s %10d %10d\n' TOTAL "$total_raw" "$total_gz"
awk -v t="$total_gz" 'BEGIN { printf "first load: %.1f KB gzip (budget 150 KB)\n", t / 1000 }'
