import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isErrno } from "../errdefs/index.ts";
import { realHost, UmountFlags } from "./index.ts";

const host = realHost();
const root = process.getuid?.() === 0;

describe("the real host", { skip: !root && "needs root" }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("names the process behind a unix socket, and no one behind a TCP one", async () => {
    const d = await mkdtemp(join(tmpdir(), "wharf-host-"));
    dirs.push(d);
    const peerOf = (listenOn: string | number) =>
      new Promise<unknown>((resolve) => {
        const srv = createServer((s) => {
          resolve(host.sockets.peerCredentials(s));
          s.destroy();
          srv.close();
        });
        srv.listen(listenOn as string, () => {
          const addr = srv.address();
          const c =
            typeof addr === "string" ? connect(addr) : connect((addr as AddressInfo).port, "127.0.0.1");
          c.on("error", () => undefined);
        });
      });
    assert.deepEqual(await peerOf(join(d, "s.sock")), { pid: process.pid, uid: 0, gid: process.getgid?.() });
    assert.equal(await peerOf(0), undefined);
  });

  it("mounts an overlay with relative lower dirs from a thread of its own, leaving the cwd alone", async () => {
    const d = await mkdtemp(join(tmpdir(), "wharf-host-"));
    dirs.push(d);
    for (const p of ["l/a", "upper", "work", "merged"]) await mkdir(join(d, p), { recursive: true });
    await writeFile(join(d, "l/a/hello"), "hi");
    const cwd = process.cwd();
    await host.mounts.mount({
      source: "overlay",
      target: join(d, "merged"),
      fstype: "overlay",
      data: `lowerdir=l/a,upperdir=${d}/upper,workdir=${d}/work`,
      cwd: d,
    });
    try {
      assert.equal(process.cwd(), cwd);
      assert.equal(await readFile(join(d, "merged/hello"), "utf8"), "hi");
    } finally {
      await host.mounts.unmount(join(d, "merged"), UmountFlags.DETACH);
    }
    await assert.rejects(host.mounts.unmount(join(d, "merged")), (e) => isErrno(e, "EINVAL"));
  });

  it("creates a netns and talks netlink inside it, many exchanges at once on one socket", async () => {
    const d = await mkdtemp(join(tmpdir(), "wharf-host-"));
    dirs.push(d);
    const ns = join(d, "ns");
    await writeFile(ns, "");
    await host.netns.createNetns(ns);
    try {
      const sock = await host.netlink.open(ns);
      // RTM_GETLINK dump: a new namespace has only lo.
      const req = Buffer.alloc(32);
      req.writeUInt32LE(32, 0);
      req.writeUInt16LE(18, 4);
      req.writeUInt16LE(0x1 | 0x300, 6);
      const replies = await Promise.all(
        [1, 2, 3, 4, 5].map((seq) => {
          const r = Buffer.from(req);
          r.writeUInt32LE(seq, 8);
          return sock.transact(r);
        }),
      );
      sock.close();
      for (const r of replies) assert.equal(r.readUInt16LE(4), 16); // one RTM_NEWLINK each
    } finally {
      await host.netns.removeNetns(ns);
    }
  });

  it("spawns from a worker with extra pipes, as conmon is started", async () => {
    const c = host.processes.spawn("sh", ["-c", "read x <&4; echo got $x >&3; exit 7"], {
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    });
    const exit = new Promise<number | null>((resolve) => c.on("exit", (code) => resolve(code)));
    let out = "";
    const ended = new Promise<void>((resolve) => {
      const r = c.stdio[3] as NodeJS.ReadableStream;
      r.on("data", (b) => {
        out += String(b);
      });
      r.on("end", () => resolve());
    });
    (c.stdio[4] as NodeJS.WritableStream).end("ping\n");
    assert.equal(await exit, 7);
    await ended;
    assert.equal(out, "got ping\n");
    assert.ok((c.pid ?? 0) > 0);
  });

  it("runs programs and reports failures with their exit code and stderr", async () => {
    assert.equal(await host.processes.run("sh", ["-c", "cat"], { input: "x" }), "x");
    await assert.rejects(host.processes.run("sh", ["-c", "echo bad >&2; exit 3"]), (e: unknown) => {
      const pe = e as { exitCode?: number; stderr?: string };
      return pe.exitCode === 3 && pe.stderr === "bad\n";
    });
  });
});
