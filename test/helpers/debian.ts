/**
 * A minimal Debian userland (debootstrap --variant=minbase) as an image tar, built once per machine from the
 * machine's configured apt mirror and cached beside the busybox tar, so test files share it.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { importRootfsTar, type TestDaemon } from "./daemon.ts";

const run = promisify(execFile);

/** The first Debian mirror and suite the machine's apt sources name (deb822 or one-line format). */
async function aptSource(): Promise<{ mirror: string; suite: string } | undefined> {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of await readdir(dir)) files.push(join(dir, f));
  for (const f of files) {
    const text = await readFile(f, "utf8").catch(() => "");
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1];
    const suite = /^Suites:\s*(\S+)/m.exec(text)?.[1];
    if (uri && suite && !uri.includes("security")) return { mirror: uri, suite };
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/m.exec(text);
    if (line?.[1] && line[2] && !line[1].includes("security")) return { mirror: line[1], suite: line[2] };
  }
  return undefined;
}

/** Path of the cached Debian rootfs tar, building it when missing; a reason string when it cannot be made. */
export async function debianTar(): Promise<string | { skip: string }> {
  const src = await aptSource();
  if (!src) return { skip: "no Debian apt source configured" };
  if (!existsSync("/usr/sbin/debootstrap")) return { skip: "debootstrap is not installed" };
  const path = join(tmpdir(), `wharf-debian-${src.suite}-minbase.tar`);
  if (existsSync(path)) return path;
  const root = await mkdtemp(join(tmpdir(), "wt-debootstrap-"));
  try {
    await run("/usr/sbin/debootstrap", ["--variant=minbase", src.suite, root, src.mirror], {
      timeout: 900_000,
      maxBuffer: 64 << 20,
    });
    const tmp = `${path}.${process.pid}.tmp`;
    await run("tar", ["-C", root, "--numeric-owner", "-cf", tmp, "."], { maxBuffer: 64 << 20 });
    await rename(tmp, path);
    return path;
  } catch (e) {
    return { skip: `debootstrap failed: ${(e as Error).message.split("\n")[0]}` };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Imports the Debian tar as `debian:minbase` into a test daemon. */
export async function importDebian(d: TestDaemon, tar: string): Promise<void> {
  await importRootfsTar(d, tar, { repo: "debian", tag: "minbase", cmd: "bash" });
}
