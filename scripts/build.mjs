// Builds the native addon (only when its source changed), bundles src/main.ts into dist/wharf.mjs and
// the dashboard's front end (src/ui/web) into static files in dist/ui, which `wharf ui` serves.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const addon = join(root, "native/build/Release/wharf_native.node");
const src = join(root, "native/wharf_native.c");
if (!existsSync(addon) || statSync(addon).mtimeMs < statSync(src).mtimeMs) {
  const args = [join(root, "node_modules/node-gyp/bin/node-gyp.js"), "rebuild"];
  if (existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");
  execFileSync(process.execPath, args, { cwd: join(root, "native"), stdio: ["ignore", "ignore", "inherit"] });
}
const bundle = await esbuild.build({
  // Split at the dynamic imports in main.ts, so `wharf ps` loads the client and not the daemon or compose.
  entryPoints: { wharf: join(root, "src/main.ts") },
  outdir: join(root, "dist"),
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  sourcemap: "linked",
  logLevel: "warning",
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __wharfRequire } from 'node:module'; const require = __wharfRequire(import.meta.url);" },
  write: false,
});
// esbuild escapes non-ASCII in strings but keeps comments and regex literals as written, and one such
// character makes V8 hold the whole chunk's source as a two-byte string (twice its size) for the daemon's
// life. \uXXXX means the same character in strings, regexes and identifiers, and is only text in a comment.
const toAscii = (text) =>
  text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
for (const f of bundle.outputFiles) {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.path.endsWith(".mjs") ? toAscii(f.text) : f.contents);
}

// The client commands again, as one CommonJS file: bin/wharf runs it for every command but the daemon, registry,
// ui and compose. A synchronous require of one file skips the ESM loader's async resolve/link/evaluate of the
// dozen chunks `wharf run` needs: about 20 ms less CPU per command (perf stat, 15 interleaved runs).
// Whitespace and syntax are minified (not names, so stack traces still read): the source is read and hashed
// on every start even when the compile cache holds its code.
const cli = await esbuild.build({
  entryPoints: [join(root, "src/cli/main.ts")],
  outfile: join(root, "dist/chunks/cli-main.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node24",
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
});
for (const f of cli.outputFiles) writeFileSync(f.path, f.path.endsWith(".cjs") ? toAscii(f.text) : f.contents);
// The loader turns the compile cache on before the bundle is compiled (a script cannot do it for itself).
// Written last: bin/wharf takes it only when it is not older than dist/wharf.mjs, so a build that fails
// before this point, or an older build script, leaves bin/wharf on dist/wharf.mjs.
writeFileSync(
  join(root, "dist/cli.cjs"),
  '"use strict";\n// Written by scripts/build.mjs.\nrequire("node:module").enableCompileCache?.();\nrequire("./chunks/cli-main.cjs");\n',
);

// The dashboard runs in a browser with no internet: everything it needs is in these files.
const ui = join(root, "dist/ui");
rmSync(ui, { recursive: true, force: true });
mkdirSync(ui, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(root, "src/ui/web/main.tsx") },
  outdir: ui,
  bundle: true,
  // The terminal and the charts are split off and loaded when their tab opens.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
});
copyFileSync(join(root, "src/ui/web/index.html"), join(ui, "index.html"));
