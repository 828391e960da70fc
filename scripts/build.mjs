// Builds the native addon (only when its source changed) and bundles src/main.ts into dist/wharf.mjs.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
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
