// Renames the wasm module's imports and exports in wasm-bindgen's JS loader to the short names
// binaryen gave them (`wasm-opt --minify-imports-and-exports-and-modules`, whose JSON map is
// the second argument). wasm-bindgen names each import after its Rust item plus a 16-hex-digit
// hash (`__wbg_focus_5b2f…`): 150-odd of those, spelled once in the wasm and once in the
// loader, are ~5 KB of a gzip'd first load that compresses badly. Run by
// scripts/minify-release.sh before terser; the loader must still be wasm-bindgen's own output.
//
//   node minify-names.mjs LOADER.js MAP.json MINIFIED.wasm
//
// Fails (and so fails the build) unless every import of the minified wasm is provided by the
// rewritten loader, and no old name is left in it.
import fs from "node:fs";

const [loaderPath, mapPath, wasmPath] = process.argv.slice(2);
if (!wasmPath) {
  console.error("usage: node minify-names.mjs LOADER.js MAP.json MINIFIED.wasm");
  process.exit(2);
}
const fail = (message) => {
  console.error(`minify-names: ${message}`);
  process.exit(1);
};

const map = JSON.parse(fs.readFileSync(mapPath, "utf8"));
const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
const imports = WebAssembly.Module.imports(module);
const modules = new Set(imports.map((i) => i.module));
if (modules.size !== 1) fail(`expected one import module, found ${[...modules].join(", ")}`);
const newModule = [...modules][0];
const oldModules = new Set(map.imports.map(([m]) => m));
if (oldModules.size !== 1) fail(`expected one imported module in the map, found ${[...oldModules]}`);
const oldModule = [...oldModules][0];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
let js = fs.readFileSync(loaderPath, "utf8");
const replaceAll = (pattern, replacement, what) => {
  let count = 0;
  js = js.replace(pattern, (...m) => {
    count += 1;
    return replacement(...m);
  });
  if (count === 0) fail(`${what} not found in the loader`);
};

// The import object: `"./tokenpair_bg.js": import0` and its `__wbg_…: function(…)` members.
replaceAll(new RegExp(`(["'])${escape(oldModule)}\\1(\\s*:)`, "g"), (_, _q, colon) => `"${newModule}"${colon}`, `module key ${oldModule}`);
const importNames = new Map(map.imports.map(([, from, to]) => [from, to]));
const keyPattern = new RegExp(`(^|[\\s{,])(${[...importNames.keys()].map(escape).join("|")})(\\s*:)`, "gm");
replaceAll(keyPattern, (_, before, name, colon) => `${before}${importNames.get(name)}${colon}`, "import keys");

// The instance's exports, always read as `wasm.<name>`.
const exportNames = new Map(map.exports.map(([from, to]) => [from, to]));
const usePattern = new RegExp(`\\bwasm\\.(${[...exportNames.keys()].map(escape).join("|")})\\b`, "g");
replaceAll(usePattern, (_, name) => `wasm.${exportNames.get(name)}`, "export uses");

// Every import the wasm needs is a key of the import object now …
for (const { name } of imports) {
  if (!new RegExp(`(^|[\\s{,])${escape(name)}\\s*:`, "m").test(js)) fail(`the loader does not provide import ${name}`);
}
// … and no hashed name is left (one would be a call into nothing at run time).
const left = js.match(/\b(__wbg_\w+_[0-9a-f]{16}|wasm\.__wbindgen_\w+)\b/);
if (left) fail(`old name left in the loader: ${left[0]}`);

fs.writeFileSync(loaderPath, js);
console.log(`minify-names: ${importNames.size} imports and ${exportNames.size} exports renamed`);
