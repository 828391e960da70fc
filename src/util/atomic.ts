import { mkdir, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomHex } from "./random.ts";

// The last write queued for each path: two writes of one file (a container's state saved on start and again
// on an exit microseconds later) must land in call order, or the older rename can win and a restart reads it.
const pending = new Map<string, Promise<void>>();

/**
 * Writes `data` to `path` so that a crash leaves either the old file or the new one, never a mix:
 * write a temp file in `tmpDir` (same filesystem), fsync it, rename over the target, fsync the directory.
 * Writes to one path are applied in the order they were called.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { tmpDir?: string; mode?: number } = {},
): Promise<void> {
  const prev = pending.get(path);
  const mine = (prev ? prev.catch(() => undefined) : Promise.resolve()).then(() =>
    writeNow(path, data, opts),
  );
  pending.set(path, mine);
  const forget = () => {
    if (pending.get(path) === mine) pending.delete(path);
  };
  mine.then(forget, forget);
  return mine;
}

async function writeNow(
  path: string,
  data: string | Uint8Array,
  opts: { tmpDir?: string; mode?: number },
): Promise<void> {
  const dir = dirname(path);
  const tmpDir = opts.tmpDir ?? dir;
  const tmp = join(tmpDir, `.tmp-${process.pid}-${randomHex(6)}`);
  const fh = await open(tmp, "w", opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Writes a value as JSON, atomically. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  opts: { tmpDir?: string } = {},
): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), opts);
}

/** fsyncs a directory so a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p returning nothing. */
export async function ensureDir(path: string, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}
