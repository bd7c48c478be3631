#!/usr/bin/env bash
# trunk post_build hook (release only): minifies wasm-bindgen's JS loader with terser and
# updates its Subresource Integrity hash in index.html. trunk's own JS minifier cannot parse
# the loader (`export { … as default }`), so `minify = "on_release"` only covers HTML and CSS.
# Without terser (never ran `make setup`) the loader stays as it is: bigger, still correct.
set -euo pipefail
[ "${TRUNK_PROFILE:-}" = release ] || exit 0
dir="${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}"
terser="$HOME/.cache/tokenpair/tools/node_modules/.bin/terser"
if [ ! -x "$terser" ]; then
  echo "minify-js: terser not installed (make setup installs it); JS loader left unminified" >&2
  exit 0
fi
html="$dir/index.html"
for js in "$dir"/*.js; do
  name="$(basename "$js")"
  old="$(openssl dgst -sha384 -binary "$js" | openssl base64 -A)"
  "$terser" "$js" --module --compress --mangle --output "$js.min"
  mv "$js.min" "$js"
  new="$(openssl dgst -sha384 -binary "$js" | openssl base64 -A)"
  # The integrity attribute trunk wrote for this file must now name the minified bytes.
  grep -qF "sha384-$old" "$html" || { echo "minify-js: no integrity hash for $name in index.html" >&2; exit 1; }
  sed -i "s|sha384-$old|sha384-$new|g" "$html"
done
