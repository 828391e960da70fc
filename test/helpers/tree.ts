/** Temporary file trees for unit tests: written from a path → content map, removed after the test file. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";

const roots: string[] = [];
let hooked = false;

/**
 * Writes `files` (relative path → content) under `<new temp dir>/<name>` and returns that directory; every
 * tree is removed when the test file ends, even after a failure.
 */
export async function tempTree(files: Record<string, string>, opts: { name?: string; prefix?: string } = {}) {
  if (!hooked) {
    hooked = true;
    after(async () => {
      for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
    });
  }
  const root = await mkdtemp(join(tmpdir(), opts.prefix ?? "wharf-test-"));
  roots.push(root);
  const dir = join(root, opts.name ?? "proj");
  await writeTree(dir, files);
  return dir;
}

/** Writes `files` (relative path → content) under `dir`, making it and every parent directory. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
}
