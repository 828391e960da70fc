/**
 * `--user` resolution against the container's own /etc/passwd and /etc/group, with the rules and error
 * texts of moby/sys/user's GetExecUser (read for behaviour), which dockerd uses.
 */
import { chown, mkdir, readFile, stat } from "node:fs/promises";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { resolveInRoot } from "./rootpath.ts";

/** A user as the container process runs it. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /**
   * Supplementary groups: the primary group, the user's groups from /etc/group (implicit form only), then
   * `groupAdd`.
   */
  additionalGids: number[];
  /** Home directory from /etc/passwd, "/" when unknown; runc uses it for HOME. */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

/**
 * Resolves `spec` (`""`, `name`, `uid`, `name:group`, `uid:gid`, ...) inside `rootfs`, plus `groupAdd`
 * (`--group-add` names or numbers). Unknown names fail with Docker's messages.
 */
export async function resolveUser(
  rootfs: string,
  spec: string,
  opts: { groupAdd?: string[] } = {},
): Promise<ResolvedUser> {
  const [passwdText, groupText] = await Promise.all([
    readInRoot(rootfs, "/etc/passwd"),
    readInRoot(rootfs, "/etc/group"),
  ]);
  return resolveUserFromFiles(spec, passwdText, groupText, opts);
}

/** The pure part of resolveUser: `undefined` file texts mean the file does not exist. */
export function resolveUserFromFiles(
  spec: string,
  passwdText: string | undefined,
  groupText: string | undefined,
  opts: { groupAdd?: string[] } = {},
): ResolvedUser {
  const colon = spec.indexOf(":");
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? "" : spec.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);
  const users = passwdText === undefined ? [] : parsePasswd(passwdText);
  const groups = groupText === undefined ? [] : parseGroup(groupText);

  const out: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: "/" };
  const match = users.find((u) =>
    userArg === "" ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let matchedName: string | undefined;
  if (match) {
    matchedName = match.name;
    out.uid = match.uid;
    out.gid = match.gid;
    out.home = match.home;
  } else if (userArg !== "") {
    if (uidArg === undefined) {
      throw new InvalidParameterError(`unable to find user ${userArg}: no matching entries in passwd file`);
    }
    out.uid = uidArg;
  }

  if (groupArg !== "") {
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) out.gid = g.gid;
    else if (gidArg !== undefined) out.gid = gidArg;
    else
      throw new InvalidParameterError(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined) {
    // Supplementary groups come only with the implicit form, as in Docker.
    for (const g of groups) if (g.members.includes(matchedName)) out.additionalGids.push(g.gid);
  }

  // dockerd (since the fix for CVE-2022-36109) keeps the primary group among the supplementary ones, so
  // dropping to it with setgroups cannot get round a file's group-deny permissions.
  if (!out.additionalGids.includes(out.gid)) out.additionalGids.unshift(out.gid);
  for (const add of opts.groupAdd ?? []) {
    const n = parseId(add);
    const g = n !== undefined ? n : groups.find((e) => e.name === add)?.gid;
    if (g === undefined) {
      throw new InvalidParameterError(`Unable to find group ${add}: no matching entries in group file`);
    }
    if (!out.additionalGids.includes(g)) out.additionalGids.push(g);
  }
  return out;
}

/**
 * Creates the working directory inside the rootfs if it is missing (each new level owned by `owner`),
 * resolving symlinks within the rootfs. Existing directories are left as they are.
 */
export async function ensureWorkdir(
  rootfs: string,
  cwd: string,
  owner: { uid: number; gid: number },
): Promise<void> {
  if (!cwd.startsWith("/")) {
    throw new InvalidParameterError(
      `the working directory '${cwd}' is invalid, it needs to be an absolute path`,
    );
  }
  const host = await resolveInRoot(rootfs, cwd);
  try {
    const st = await stat(host);
    if (st.isDirectory()) return;
    throw new InvalidParameterError(`cannot use ${cwd} as working directory: not a directory`);
  } catch (e) {
    if (isErrno(e, "ENOTDIR")) {
      throw new InvalidParameterError(`cannot create working directory ${cwd}: not a directory`, {
        cause: e,
      });
    }
    if (!isErrno(e, "ENOENT")) throw e;
  }
  let first: string | undefined;
  try {
    first = await mkdir(host, { recursive: true, mode: 0o755 });
  } catch (e) {
    if (isErrno(e, "ENOTDIR") || isErrno(e, "EEXIST")) {
      throw new InvalidParameterError(`cannot create working directory ${cwd}: not a directory`, {
        cause: e,
      });
    }
    throw e;
  }
  if (!first) return;
  // mkdir -p reports the first directory it made; everything from there down is new and gets the owner.
  const rel = host.slice(first.length).split("/").filter(Boolean);
  let p = first;
  await chown(p, owner.uid, owner.gid);
  for (const c of rel) {
    p = `${p}/${c}`;
    await chown(p, owner.uid, owner.gid);
  }
}

async function readInRoot(rootfs: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(await resolveInRoot(rootfs, path), "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR") || isErrno(e, "EISDIR")) return undefined;
    throw e;
  }
}

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new InvalidParameterError("uids and gids must be in range 0-2147483647");
  return n;
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const f = t.split(":");
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!f[0] || !Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || "/" });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const f = t.split(":");
    const gid = Number(f[2]);
    if (!f[0] || !Number.isInteger(gid) || f[2] === "") continue;
    out.push({ name: f[0], gid, members: (f[3] ?? "").split(",").filter(Boolean) });
  }
  return out;
}
