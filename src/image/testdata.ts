import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import tar from "tar-stream";

/** Where Debian's busybox-static puts its binary. */
export const HOST_BUSYBOX = "/bin/busybox";

/** A fixed mtime, so every build of the rootfs tar is byte-identical and its layer is shared. */
const MTIME = new Date("2024-01-01T00:00:00Z");

/** /etc/passwd of the test image: root, nobody, and an unprivileged `wharf` user (1000:1000). */
export const BUSYBOX_PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "wharf:x:1000:1000:wharf:/home/wharf:/bin/sh",
  "",
].join("\n");

/** /etc/group matching BUSYBOX_PASSWD. */
export const BUSYBOX_GROUP = ["root:x:0:", "nobody:x:65534:", "wharf:x:1000:", ""].join("\n");

/** The applets a busybox binary provides (`busybox --list`). */
export function busyboxApplets(busybox = HOST_BUSYBOX): string[] {
  return execFileSync(busybox, ["--list"], { encoding: "utf8" })
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s && s !== "busybox" && !s.includes("/"));
}

type Entry = { header: Partial<tar.Header> & { name: string }; body?: Buffer };

function rootfsEntries(busybox: string): Entry[] {
  const dir = (name: string, mode = 0o755, uid = 0): Entry => ({
    header: { name, type: "directory", mode, uid, gid: uid, mtime: MTIME },
  });
  const file = (name: string, body: Buffer | string, mode = 0o644): Entry => ({
    header: { name, type: "file", mode, mtime: MTIME, size: Buffer.byteLength(body) },
    body: Buffer.from(body),
  });
  const link = (name: string, target: string): Entry => ({
    header: { name, type: "symlink", linkname: target, mode: 0o777, mtime: MTIME },
  });
  const out: Entry[] = [
    dir("bin"),
    dir("dev"),
    dir("etc"),
    dir("home"),
    dir("home/wharf", 0o755, 1000),
    dir("proc"),
    dir("root", 0o700),
    dir("sys"),
    dir("tmp", 0o1777),
    dir("usr"),
    dir("usr/bin"),
    dir("usr/sbin"),
    dir("sbin"),
    dir("var"),
    dir("var/log"),
    dir("var/spool"),
    dir("var/spool/mail"),
    dir("var/tmp", 0o1777),
    file("bin/busybox", readFileSync(busybox), 0o755),
  ];
  for (const applet of busyboxApplets(busybox)) out.push(link(`bin/${applet}`, "busybox"));
  out.push(
    // Scripts starting with #!/usr/bin/env must work too.
    link("usr/bin/env", "/bin/busybox"),
    file("etc/passwd", BUSYBOX_PASSWD),
    file("etc/group", BUSYBOX_GROUP),
    file(
      "etc/shadow",
      "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nwharf:*:19000:0:99999:7:::\n",
      0o640,
    ),
    // Mount targets the runtime bind-mounts over; present so the rootfs needs no copy-up for them.
    file("etc/hostname", ""),
    file("etc/hosts", ""),
    file("etc/resolv.conf", ""),
  );
  return out;
}

/**
 * A busybox root filesystem as a tar stream, built from the host's static busybox: /bin/busybox with a symlink
 * per applet, /etc/passwd and /etc/group (root, nobody, wharf 1000:1000), /tmp 1777 and the usual empty dirs.
 * For tests: `images.importTar(busyboxRootfsTar(), { repo: "busybox", tag: "latest", changes: ['CMD ["sh"]'] })`.
 */
export function busyboxRootfsTar(opts: { busybox?: string; gzip?: boolean } = {}): Readable {
  const pack = tar.pack();
  const entries = rootfsEntries(opts.busybox ?? HOST_BUSYBOX);
  (async () => {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (e.body) pack.entry(e.header, e.body, cb);
        else pack.entry(e.header, cb);
      });
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  const stream = Readable.from(pack);
  return opts.gzip ? stream.pipe(zlib.createGzip()) : stream;
}

/** The changes that make an imported busybox rootfs behave like Docker Hub's busybox image. */
export const BUSYBOX_CHANGES: readonly string[] = [
  'CMD ["sh"]',
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
];
