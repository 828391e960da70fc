import tar from "tar-stream";

/** One entry for `makeTar`; `content` only for files. */
export interface TarEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo";
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records; values are latin1 strings so that any bytes can be given (xattr values). */
  pax?: Record<string, string>;
}

/** Builds an uncompressed tar in memory (test fixtures: layers, rootfs imports, hostile archives). */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    const body =
      e.content === undefined ? (type === "file" ? Buffer.alloc(0) : undefined) : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: body?.byteLength ?? 0,
      pax: e.pax ? placeholders(e.pax) : undefined,
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header as tar.Header, body, cb);
      else pack.entry(header as tar.Header, cb);
    });
  }
  pack.finalize();
  await done;
  let out = Buffer.concat(chunks);
  for (const e of entries) {
    for (const [k, v] of Object.entries(e.pax ?? {})) {
      const from = Buffer.from(`${k}=${placeholder(Buffer.byteLength(v, "latin1"))}\n`);
      const i = out.indexOf(from);
      if (i >= 0)
        out = Buffer.concat([
          out.subarray(0, i),
          Buffer.from(`${k}=${v}\n`, "latin1"),
          out.subarray(i + from.length),
        ]);
    }
  }
  return out;
}

// tar-stream writes PAX values as UTF-8. Binary values are written as same-length ASCII placeholders and
// patched in afterwards; the record lengths stay right and PAX data is outside the header checksum.
function placeholders(pax: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(pax).map(([k, v]) => [k, placeholder(Buffer.byteLength(v, "latin1"))]),
  );
}

function placeholder(n: number): string {
  return "\u0001".repeat(n);
}
