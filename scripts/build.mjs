// Builds the native addon (only when its source changed), bundles src/main.ts into dist/wharf.mjs and
// the dashboard's front end (src/ui/web) into static files in dist/ui, which `wharf ui` serves.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
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
await esbuild.build({
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
});

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
