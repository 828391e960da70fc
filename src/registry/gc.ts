import { readdir, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isDigest } from "../content/index.ts";
import type { RegistryStorage } from "./storage.ts";

/** What a gc run did. */
export interface GcResult {
  marked: number;
  deleted: string[];
  freedBytes: number;
  uploadsRemoved: number;
}

/**
 * Mark and sweep over the blob store. It is safe while the server takes pushes because nothing younger than
 * `graceMs` is deleted, and the server refreshes a blob's mtime whenever a client checks it (HEAD), mounts it,
 * or a manifest names it: a blob a push is about to reference is always recent. Marks are taken twice, before
 * and after choosing candidates, so a manifest stored while the first mark ran still protects its blobs.
 */
export async function collectGarbage(
  s: RegistryStorage,
  opts: { graceMs: number; dryRun?: boolean; now?: number },
): Promise<GcResult> {
  const now = opts.now ?? Date.now();
  const first = await mark(s);
  const candidates: { digest: string; size: number }[] = [];
  for (const b of await s.blobs.list()) {
    if (first.has(b.digest)) continue;
    const st = await stat(s.blobs.path(b.digest)).catch(() => undefined);
    if (st && now - st.mtimeMs >= opts.graceMs) candidates.push({ digest: b.digest, size: st.size });
  }
  const second = await mark(s);
  const deleted: string[] = [];
  let freed = 0;
  for (const c of candidates) {
    if (second.has(c.digest)) continue;
    const st = await stat(s.blobs.path(c.digest)).catch(() => undefined);
    if (!st || now - st.mtimeMs < opts.graceMs) continue;
    if (!opts.dryRun) await unlink(s.blobs.path(c.digest)).catch(() => undefined);
    deleted.push(c.digest);
    freed += c.size;
  }
  if (!opts.dryRun) await unlinkDangling(s, new Set(deleted));
  let uploadsRemoved = 0;
  for (const id of await readdir(s.uploadDir).catch(() => [])) {
    const st = await stat(s.uploadFile(id)).catch(() => undefined);
    if (st && now - st.mtimeMs >= Math.max(opts.graceMs, 60_000)) {
      if (!opts.dryRun) await rm(s.uploadFile(id), { force: true });
      uploadsRemoved++;
    }
  }
  return { marked: second.size, deleted, freedBytes: freed, uploadsRemoved };
}

/** Every blob a stored manifest (tagged or not) reaches, the manifests included. */
async function mark(s: RegistryStorage): Promise<Set<string>> {
  const marked = new Set<string>();
  for (const repo of await s.catalog()) {
    const dir = join(s.repoDir, repo, "_manifests", "revisions");
    for (const hex of await readdir(dir).catch(() => [])) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest)) continue;
      marked.add(digest);
      let m: {
        config?: { digest?: string };
        layers?: { digest?: string }[];
        manifests?: { digest?: string }[];
      };
      try {
        m = JSON.parse((await s.blobs.read(digest)).toString("utf8"));
      } catch {
        continue;
      }
      for (const d of [m.config, ...(m.layers ?? []), ...(m.manifests ?? [])]) {
        if (d?.digest && isDigest(d.digest)) marked.add(d.digest);
      }
    }
  }
  return marked;
}

/** Drops repository links to blobs that are gone. */
async function unlinkDangling(s: RegistryStorage, gone: Set<string>): Promise<void> {
  if (!gone.size) return;
  for (const repo of await s.catalog()) {
    const dir = join(s.repoDir, repo, "_layers");
    for (const hex of await readdir(dir).catch(() => [])) {
      if (gone.has(`sha256:${hex}`)) await rm(join(dir, hex), { force: true });
    }
  }
}
