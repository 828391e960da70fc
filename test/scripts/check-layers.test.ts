// check-layers.mjs must fail on the imports ARCHITECTURE.md forbids: fed a temp tree with one wrong import
// at a time, it exits non-zero and names the file; the clean tree passes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const script = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/check-layers.mjs");
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A src/ tree of the given files (path → text), checked by the script. */
function check(tree: Record<string, string>, page?: string): { status: number | null; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), "wharf-layers-"));
  roots.push(root);
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const args = [script, root];
  if (page !== undefined) {
    writeFileSync(join(root, "ARCHITECTURE.md"), page);
    args.push(join(root, "ARCHITECTURE.md"));
  }
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

const clean: Record<string, string> = {
  "apitypes/index.ts": "export interface Volume { Name: string }\n",
  "util/index.ts": "export const x = 1;\n",
  "volume/index.ts":
    'import type { Volume } from "../apitypes/index.ts";\nimport { x } from "../util/index.ts";\nexport const v: Volume = { Name: String(x) };\n',
  "network/index.ts": 'export { n } from "./service.ts";\n',
  "network/service.ts": "export const n = 1;\n",
  "api/index.ts": 'export { r } from "./routes/volumes.ts";\n',
  "api/routes/volumes.ts": 'import { v } from "../../volume/index.ts";\nexport const r = v;\n',
  "daemon/index.ts": 'import { r } from "../api/index.ts";\nexport const d = r;\n',
};

describe("check-layers.mjs", () => {
  it("passes a tree that keeps the rules", () => {
    const r = check(clean);
    assert.equal(r.status, 0, r.stderr);
  });

  it("fails on a service importing another service, even for types only", () => {
    const r = check({
      ...clean,
      "volume/uses.ts": 'import type { n } from "../network/index.ts";\nexport type N = typeof n;\n',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /volume\/uses\.ts: volume\/ may not import network\/index\.ts/);
  });

  it("lets only host/ spawn processes or load the addon", () => {
    const spawn = 'import { spawn } from "node:child_process";\nexport const s = spawn;\n';
    assert.equal(check({ ...clean, "host/index.ts": spawn }).status, 0);
    for (const [path, text] of [
      ["runtime/run.ts", spawn],
      ["netdrv/lazy.ts", 'export const s = () => import("node:child_process");\n'],
      ["volume/addon.ts", 'export const p = "native/build/Release/wharf_native.node";\n'],
    ] as const) {
      const r = check({ ...clean, [path]: text });
      assert.equal(r.status, 1, path);
      assert.match(r.stderr, new RegExp(`${path.replace(/[/.]/g, "\\$&")}: only host/`));
    }
  });

  it("fails on a lower layer importing a higher one", () => {
    const r = check({
      ...clean,
      "util/bad.ts": 'import { v } from "../volume/index.ts";\nexport const b = v;\n',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /util\/bad\.ts: util\/ may not import volume\/index\.ts/);
  });

  it("fails on reaching past a folder's index.ts, api/ included", () => {
    const inner = check({
      ...clean,
      "volume/deep.ts": 'import { n } from "../network/service.ts";\nexport const d = n;\n',
    });
    assert.equal(inner.status, 1);
    const api = check({
      ...clean,
      "daemon/wire.ts": 'import { r } from "../api/routes/volumes.ts";\nexport const w = r;\n',
    });
    assert.equal(api.status, 1);
    assert.match(
      api.stderr,
      /daemon\/wire\.ts: import api\/ through its index\.ts, not api\/routes\/volumes\.ts/,
    );
  });

  it("keeps the shape leaves free of imports of ours", () => {
    const r = check({
      ...clean,
      "apitypes/bad.ts": 'import type { x } from "../util/index.ts";\nexport type X = typeof x;\n',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /apitypes\/bad\.ts: apitypes\/ may not import util\/index\.ts/);
  });

  it("holds ARCHITECTURE.md's folder table to the rules: a missing row or a wrong column fails", () => {
    const page = readFileSync(join(dirname(script), "../ARCHITECTURE.md"), "utf8");
    assert.equal(check(clean, page).status, 0, "the repository's page states the rules");
    const noRow = check(clean, page.replace(/^\| `ui\/` .*\n/m, ""));
    assert.equal(noRow.status, 1);
    assert.match(noRow.stderr, /ARCHITECTURE\.md: no row for ui/);
    const wrong = check(clean, page.replace(/^(\| `runtime\/` .*\| )`oci\/` base \|$/m, "$1base |"));
    assert.equal(wrong.status, 1);
    assert.match(
      wrong.stderr,
      /ARCHITECTURE\.md: runtime may import "errdefs host oci util" here, the page says "errdefs host util"/,
    );
  });
});
