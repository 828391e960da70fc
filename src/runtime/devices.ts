/**
 * `--device` and `--device-cgroup-rule`: host device nodes recreated in the container with their cgroup
 * permissions, following dockerd's rules (moby's oci_linux.go, read for behaviour): a symlink on the host
 * is followed, a directory adds every device node below it, and anything else is refused with Docker's text.
 */
import type { Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import type { OciDevice, OciDeviceCgroup } from "../oci/index.ts";

/** One device for buildSpec: the node to create and the access its cgroup rule grants. */
export type SpecDevice = OciDevice & { access?: string };

/** A `--device` as the API carries it (HostConfig.Devices). */
export interface DeviceRequest {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/** The device nodes one `--device` stands for; refuses a path that is not there or holds no device. */
export async function devicesFromRequest(req: DeviceRequest): Promise<SpecDevice[]> {
  const onHost = req.PathOnHost ?? "";
  const inCtr = req.PathInContainer || onHost;
  const access = req.CgroupPermissions || "rwm";
  const fail = (why: string) =>
    new InvalidParameterError(
      `error gathering device information while adding custom device ${JSON.stringify(onHost)}: ${why}`,
    );
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length)
    throw new InvalidParameterError(`invalid device cgroup permissions: ${access}`);
  let resolved = onHost;
  let st: Stats;
  try {
    if ((await lstat(onHost)).isSymbolicLink()) resolved = await realpath(onHost);
    st = await stat(resolved);
  } catch (e) {
    throw fail(isErrno(e, "ENOENT") ? "no such file or directory" : String((e as Error).message));
  }
  const one = nodeOf(st, inCtr, access);
  if (one) return [one];
  if (!st.isDirectory()) throw fail("not a device node");
  const found: SpecDevice[] = [];
  await walk(resolved, inCtr, access, found);
  if (found.length === 0) throw fail("not a device node");
  return found;
}

async function walk(dir: string, inCtr: string, access: string, out: SpecDevice[]): Promise<void> {
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const host = join(dir, ent.name);
    const ctr = join(inCtr, ent.name);
    if (ent.isDirectory()) await walk(host, ctr, access, out);
    else if (ent.isCharacterDevice() || ent.isBlockDevice()) {
      const node = nodeOf(await lstat(host), ctr, access);
      if (node) out.push(node);
    }
  }
}

function nodeOf(st: Stats, path: string, access: string): SpecDevice | undefined {
  const kind = st.mode & S_IFMT;
  if (kind !== S_IFCHR && kind !== S_IFBLK) return undefined;
  const rdev = BigInt(st.rdev);
  return {
    type: kind === S_IFCHR ? "c" : "b",
    path,
    // glibc's major()/minor() of a dev_t.
    major: Number(((rdev & 0xfff00n) >> 8n) | ((rdev & 0xfffff00000000000n) >> 32n)),
    minor: Number((rdev & 0xffn) | ((rdev & 0xffffff00000n) >> 12n)),
    fileMode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    access,
  };
}

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** Parses one `--device-cgroup-rule` ("c 1:3 mr", "a *:* rwm"); Docker's error text when it is malformed. */
export function parseDeviceCgroupRule(rule: string): OciDeviceCgroup {
  const m = RULE.exec(rule);
  if (!m) throw new InvalidParameterError(`invalid device cgroup rule format: '${rule}'`);
  const [, type, major, minor, access] = m as unknown as [string, "a" | "b" | "c", string, string, string];
  return {
    allow: true,
    type,
    ...(major === "*" ? {} : { major: Number(major) }),
    ...(minor === "*" ? {} : { minor: Number(minor) }),
    access,
  };
}
