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
