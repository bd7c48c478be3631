#!/usr/bin/env bash
# trunk post_build hook (release only), in this order:
#  1. scripts/trim-wasm-interface.mjs: classes and exports the loader never uses out of the
#     loader and the wasm, the remaining import/export names shortened in both (wasm-bindgen's
#     hashed names are ~5 KB of the gzip'd first load);
#  2. terser minifies the loader: trunk's own JS minifier cannot parse it
#     (`export { … as default }`), so `minify = "on_release"` only covers HTML and CSS; and the
#     JavaScript snippets it imports (the client's DPoP key, snippets/…/key.js: 1.4 → 0.9 KB
#     with gzip -9), which trunk copies as written;
#  3. the Subresource Integrity hashes trunk wrote into index.html name the new bytes.
# Without the tools (never ran `make setup`) the files stay as they are: bigger, still correct.
set -euo pipefail
[ "${TRUNK_PROFILE:-}" = release ] || exit 0
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
tools="$HOME/.cache/tokenpair/tools"
terser="$tools/node_modules/.bin/terser"
html="$dir/index.html"
sri() { openssl dgst -sha384 -binary "$1" | openssl base64 -A; }

shopt -s nullglob globstar
loaders=("$dir"/*.js)
snippets=("$dir"/snippets/**/*.js)
modules=("$dir"/*_bg.wasm)
[ ${#loaders[@]} -eq 1 ] && [ ${#modules[@]} -eq 1 ] || {
  echo "minify-release: expected one .js loader and one _bg.wasm in $dir" >&2
  exit 1
}
js="${loaders[0]}" wasm="${modules[0]}"
# Snippets of an earlier build can linger: trunk copies wasm-bindgen's whole output directory,
# which lives in the (shared) cargo target directory, and a snippet's directory is named by a
# hash that changes with the crate's version. What this loader does not import is not shipped
# (nor preloaded).
kept=()
for f in "${snippets[@]}"; do
  if grep -qF "./${f#"$dir"/}" "$js"; then
    kept+=("$f")
  else
    echo "minify-release: removed ${f#"$dir"/} (from an earlier build; the loader does not import it)" >&2
    rm -f "$f"
    # …and the modulepreload link trunk wrote for it (a preload of a missing file is an error).
    REL="${f#"$dir"/}" perl -0pi -e 's{<link[^>]*\Q$ENV{REL}\E[^>]*>}{}g' "$html"
  fi
done
snippets=("${kept[@]}")
find "$dir/snippets" -type d -empty -delete 2>/dev/null || true
old_js="$(sri "$js")" old_wasm="$(sri "$wasm")"
old_snippets=()
for f in "${snippets[@]}"; do old_snippets+=("$f:$(sri "$f")"); done

# The same features trunk's wasm-opt run gets (index.html's data-wasm-opt-params).
features=(--enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-multivalue --enable-reference-types)
# binaryen from make setup first: Debian's older wasm-opt breaks wasm-bindgen's externref table.
wasm_opt="$tools/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || wasm_opt="$(command -v wasm-opt || true)"
if [ -n "$wasm_opt" ] && command -v node >/dev/null; then
  node "$(dirname "$0")/trim-wasm-interface.mjs" "$js" "$wasm" "$wasm_opt" "${features[@]}"
else
  echo "minify-release: wasm-opt or node missing (make setup installs them); interface left as is" >&2
fi

if [ -x "$terser" ]; then
  # Exports keep their names (--module mangles only what the module keeps to itself).
  for f in "$js" "${snippets[@]}"; do
    "$terser" "$f" --module --compress --mangle --output "$f.min"
    mv "$f.min" "$f"
  done
else
  echo "minify-release: terser not installed (make setup installs it); JS loader left unminified" >&2
fi

# The integrity attributes trunk wrote must now name the new bytes.
for pair in "$js:$old_js" "$wasm:$old_wasm" "${old_snippets[@]}"; do
  file="${pair%%:*}" old="${pair#*:}" new="$(sri "${pair%%:*}")"
  grep -qF "sha384-$old" "$html" || {
    echo "minify-release: no integrity hash for $(basename "$file") in index.html" >&2
    exit 1
  }
  sed -i "s|sha384-$old|sha384-$new|g" "$html"
done
