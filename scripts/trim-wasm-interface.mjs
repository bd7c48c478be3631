// Trims the interface between the wasm module and wasm-bindgen's JS loader, in both files
// (run by scripts/minify-release.sh, before terser, on wasm-bindgen's own loader):
//
//  1. Dead classes out of the loader. A `#[wasm_bindgen]` struct of a dependency is exported
//     even when nothing hands one to JavaScript (leptos' server functions bring wasm-streams'
//     `IntoUnderlyingSource` & co.). The loader can only make instances through
//     `<Class>.__wrap`; a class it never wraps, without a constructor, has no instances.
//  2. Dead exports out of the wasm. What the loader does not read as `wasm.<name>` nobody
//     calls (trunk's start script only calls `init`): `wasm-opt --remove-exports` drops them,
//     then the optimisation drops the code only they reached (`-O2`, the level index.html gives
//     trunk's run: see there why not `-Oz`; after `--flatten --rereloop`, which restructures
//     control flow into a shape that compresses better).
//  3. Short names. wasm-bindgen names each import after its Rust item plus a 16-hex-digit
//     hash (`__wbg_focus_5b2f…`), spelled once in the wasm and once in the loader, and that
//     hash compresses badly. `--minify-imports-and-exports-and-modules` renames them in the
//     wasm and prints a map; the loader is renamed from that map.
//
//   node trim-wasm-interface.mjs LOADER.js MODULE.wasm WASM_OPT [wasm-opt feature flags…]
//
// The files are rewritten only if the result checks out: every import of the new wasm is
// provided by the new loader, every export the loader reads exists, no old name is left.
// Otherwise it fails, and so does the build: a blank page must not ship.
import fs from "node:fs";
import { spawnSync } from "node:child_process";

const [loaderPath, wasmPath, wasmOpt, ...features] = process.argv.slice(2);
if (!wasmOpt) {
  console.error("usage: node trim-wasm-interface.mjs LOADER.js MODULE.wasm WASM_OPT [flags…]");
  process.exit(2);
}
const fail = (message) => {
  console.error(`trim-wasm-interface: ${message}`);
  process.exit(1);
};
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let js = fs.readFileSync(loaderPath, "utf8");
const before = WebAssembly.Module.exports(new WebAssembly.Module(fs.readFileSync(wasmPath)));

// 1. Classes the loader never instantiates.
const deadClasses = [];
for (const [, name] of js.matchAll(/^export class (\w+) \{$/gm)) {
  const start = js.indexOf(`export class ${name} {\n`);
  const end = js.indexOf("\n}\n", start) + 3;
  const body = js.slice(start, end);
  if (js.includes(`${name}.__wrap(`) || /^\s+constructor\(/m.test(body)) continue;
  js = js.slice(0, start) + js.slice(end);
  js = js.replace(new RegExp(`^if \\(Symbol\\.dispose\\) ${name}\\.prototype\\[Symbol\\.dispose\\] = ${name}\\.prototype\\.free;\\n`, "m"), "");
  js = js.replace(new RegExp(`^const ${name}Finalization = [^;]*;\\n`, "m"), "");
  if (new RegExp(`\\b${name}\\b`).test(js)) fail(`class ${name} is still referenced after removing it`);
  deadClasses.push(name);
}

// 2. Exports the loader never reads.
// (A name the loader reads that the wasm never exported is caught after the rename, below.)
const used = new Set([...js.matchAll(/\bwasm\.(\w+)/g)].map((m) => m[1]));
const unused = before.map((e) => e.name).filter((name) => !used.has(name));
if (unused.some((name) => /[*?,]/.test(name))) fail(`an export name wasm-opt would read as a pattern: ${unused}`);

// 3. One wasm-opt run: drop the unused exports, optimise again, minify the names.
const out = `${wasmPath}.trimmed`;
const args = [wasmPath, ...features];
if (unused.length > 0) args.push("--remove-exports", `--pass-arg=remove-exports@${unused.join(",")}`);
// `--flatten --rereloop` first, and a second -O2 after folding identical code: measured ~0.5 KB
// less gzip than -O2 alone (docs/performance.md), for a few seconds more of build.
args.push("--flatten", "--rereloop", "-O2", "--code-folding", "--duplicate-function-elimination", "-O2");
// `--low-memory-unused` lets binaryen fold `ptr + C` (C < 1 KiB) into the access's offset. That
// differs only where `ptr + C` would wrap past 4 GiB into the low 1 KiB. rustc links the stack
// first ([0, 1 MiB), data above): the low 1 KiB is the stack's last KiB, which only a stack
// overflow reaches, and an access that would wrap traps (out of bounds) instead. In effect the
// stack is 1 KiB shorter. Measured ~0.45 KB less gzip.
args.push("--low-memory-unused", "--minify-imports-and-exports-and-modules", "-o", out);
// The `producers` and `target_features` custom sections are for tools, not browsers.
args.push("--strip-producers", "--strip-target-features");
const run = spawnSync(wasmOpt, args, { encoding: "utf8" });
if (run.status !== 0) fail(`${wasmOpt} failed:\n${run.stderr}`);
const map = JSON.parse(run.stdout);
const module = new WebAssembly.Module(fs.readFileSync(out));
const imports = WebAssembly.Module.imports(module);
const exports = WebAssembly.Module.exports(module);

const modules = new Set(imports.map((i) => i.module));
const oldModules = new Set(map.imports.map(([m]) => m));
if (modules.size !== 1 || oldModules.size !== 1) fail(`expected one import module, found ${[...oldModules]} → ${[...modules]}`);
const [newModule] = modules;
const [oldModule] = oldModules;

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
replaceAll(keyPattern, (_, lead, name, colon) => `${lead}${importNames.get(name)}${colon}`, "import keys");
// The instance's exports, always read as `wasm.<name>`.
const exportNames = new Map(map.exports.map(([from, to]) => [from, to]));
replaceAll(/\bwasm\.(\w+)\b/g, (whole, name) => (exportNames.has(name) ? `wasm.${exportNames.get(name)}` : whole), "export uses");

// Every import the wasm needs is a key of the import object now, every export read exists …
for (const { name } of imports) {
  if (!new RegExp(`(^|[\\s{,])${escape(name)}\\s*:`, "m").test(js)) fail(`the loader does not provide import ${name}`);
}
for (const [, name] of js.matchAll(/\bwasm\.(\w+)/g)) {
  if (!exports.some((e) => e.name === name)) fail(`the loader reads wasm.${name}, which the trimmed wasm does not export`);
}
// … and no hashed name is left (one would be a call into nothing at run time).
const left = js.match(/\b__wbg_\w+_[0-9a-f]{16}\b/);
if (left) fail(`old name left in the loader: ${left[0]}`);

fs.writeFileSync(loaderPath, js);
fs.renameSync(out, wasmPath);
console.log(
  `trim-wasm-interface: ${deadClasses.length} dead classes (${deadClasses.join(", ") || "none"}) and ` +
    `${unused.length} unused exports removed; ${importNames.size} imports and ${exportNames.size} exports renamed`,
);
