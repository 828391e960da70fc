/**
 * User namespaces: whether this process runs in one (a rootless daemon), and the subordinate id ranges
 * (/etc/subuid, /etc/subgid) that newuidmap/newgidmap let a user map into one.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { MountFlags, native } from "./native.ts";
import type { Child, IdMapLine, UserNetnsOptions } from "./types.ts";

/** The identity map of the initial user namespace: every id maps to itself. */
const INITIAL_MAP = /^\s*0\s+0\s+4294967295\s*$/;

let cached: boolean | undefined;

/** Whether this process runs inside a user namespace (its uid_map is not the initial identity map). */
export function inUserNamespace(): boolean {
  if (cached === undefined) {
    try {
      cached = !INITIAL_MAP.test(readFileSync("/proc/self/uid_map", "utf8"));
    } catch {
      cached = false;
    }
  }
  return cached;
}

/** One subordinate range: `count` ids from `start`. */
export interface SubidRange {
  start: number;
  count: number;
}

/**
 * The ranges /etc/subuid (or /etc/subgid) text grants a user, named by login or by numeric id, in file
 * order (newuidmap's order too).
 */
export function parseSubids(text: string, who: { name: string; id: number }): SubidRange[] {
  const out: SubidRange[] = [];
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (!owner || !start || !count || !/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    if (owner !== who.name && owner !== String(who.id)) continue;
    if (Number(count) > 0) out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** The first of a user's subordinate ranges in `file`; undefined when the file has none for them. */
export function firstSubidRange(file: string, who: { name: string; id: number }): SubidRange | undefined {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return parseSubids(text, who)[0];
}

/** The user and group `--userns-remap` names, resolved, with their subordinate ranges. */
export interface RemapUser {
  user: string;
  group: string;
  uidRanges: SubidRange[];
  gidRanges: SubidRange[];
}

/** Where the account databases are, and how to run the tools that change them (tests give their own). */
export interface AccountFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
  /** Runs useradd/usermod; stdout, rejecting on failure. */
  run(file: string, args: readonly string[]): Promise<string>;
}

/** The system's account files, changed through shadow-utils as dockerd changes them. */
export const SYSTEM_ACCOUNTS: Omit<AccountFiles, "run"> = {
  passwd: "/etc/passwd",
  group: "/etc/group",
  subuid: "/etc/subuid",
  subgid: "/etc/subgid",
};

/** `--userns-remap default` means this user and group, created when missing (dockerd's name). */
export const DEFAULT_REMAP_USER = "dockremap";

/** dockerd hands out subordinate ranges of this size, at or above this id. */
const RANGE_START = 100000;
const RANGE_LEN = 65536;

/** A start-up failure of `--userns-remap`, in dockerd's words. */
export class RemapError extends Error {}

interface DbEntry {
  name: string;
  id: number;
}

function readDb(path: string): DbEntry[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: DbEntry[] = [];
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    if (name && id && /^\d+$/.test(id)) out.push({ name, id: Number(id) });
  }
  return out;
}

function notFound(name: string | number, db: "passwd" | "group"): string {
  return `getent unable to find entry "${name}" in ${db} database`;
}

/** Parses `USER[:GROUP]` (names or ids) as dockerd's parseRemappedRoot does; "default" may need creating. */
function parseSpec(spec: string, f: AccountFiles): { user: string; group: string } | "create" {
  const parts = spec.split(":");
  if (parts.length > 2) throw new RemapError(`Invalid user/group specification in --userns-remap: "${spec}"`);
  const [u = "", g] = parts;
  const users = readDb(f.passwd);
  const groups = readDb(f.group);
  let user: string;
  let group: string | undefined;
  if (/^\d+$/.test(u)) {
    const uid = Number(u);
    const e = users.find((x) => x.id === uid);
    if (!e) throw new RemapError(`Uid ${uid} has no entry in /etc/passwd: ${notFound(uid, "passwd")}`);
    user = e.name;
    if (g === undefined) {
      const ge = groups.find((x) => x.id === uid);
      if (!ge) throw new RemapError(`Gid ${uid} has no entry in /etc/group: ${notFound(uid, "group")}`);
      group = ge.name;
    }
  } else {
    const name = u === "default" ? DEFAULT_REMAP_USER : u;
    const e = users.find((x) => x.name === name);
    if (!e && u === "default") return "create";
    if (!e) throw new RemapError(`Error during uid lookup for "${name}": ${notFound(name, "passwd")}`);
    user = e.name;
    if (g === undefined) {
      if (!groups.some((x) => x.name === name))
        throw new RemapError(`Error during gid lookup for "${name}": ${notFound(name, "group")}`);
      group = name;
    }
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) {
      const ge = groups.find((x) => x.id === Number(g));
      // dockerd's text names /etc/passwd here too.
      if (!ge) throw new RemapError(`Gid ${g} has no entry in /etc/passwd: ${notFound(g, "group")}`);
      group = ge.name;
    } else {
      if (!groups.some((x) => x.name === g))
        throw new RemapError(`Error during groupname lookup for "${g}": ${notFound(g, "group")}`);
      group = g;
    }
  }
  return { user, group: group ?? user };
}

/** Every range of a subordinate id file, whoever owns it, sorted by start. */
function allRanges(file: string): SubidRange[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: SubidRange[] = [];
  for (const line of text.split("\n")) {
    const [, start, count] = line.trim().split(":");
    if (start && count && /^\d+$/.test(start) && /^\d+$/.test(count))
      out.push({ start: Number(start), count: Number(count) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The first RANGE_LEN ids at or above RANGE_START that no range of `file` overlaps (dockerd's choice). */
export function nextFreeRange(taken: readonly SubidRange[]): SubidRange {
  let start = RANGE_START;
  for (const r of [...taken].sort((a, b) => a.start - b.start))
    if (start < r.start + r.count && r.start < start + RANGE_LEN) start = r.start + r.count;
  return { start, count: RANGE_LEN };
}

/** Creates the dockremap user and group (a system account without a home or shell) and its ranges. */
async function createDefaultUser(f: AccountFiles): Promise<void> {
  const name = DEFAULT_REMAP_USER;
  try {
    if (!readDb(f.group).some((g) => g.name === name)) await f.run("groupadd", ["--system", name]);
    await f.run("useradd", [
      "--system",
      "--gid",
      name,
      "--shell",
      "/bin/false",
      "--home-dir",
      "/nonexistent",
      "--no-create-home",
      name,
    ]);
  } catch (e) {
    throw new RemapError(`Error during "${name}" user creation: ${(e as Error).message.trim()}`);
  }
}

/** Gives `user` a free range in /etc/subuid and /etc/subgid where it has none (usermod -v / -w, as dockerd). */
async function addRanges(user: DbEntry, f: AccountFiles): Promise<void> {
  const args: string[] = [];
  if (!parseSubids(readText(f.subuid), user).length) {
    const r = nextFreeRange(allRanges(f.subuid));
    args.push("--add-subuids", `${r.start}-${r.start + r.count - 1}`);
  }
  if (!parseSubids(readText(f.subgid), user).length) {
    const r = nextFreeRange(allRanges(f.subgid));
    args.push("--add-subgids", `${r.start}-${r.start + r.count - 1}`);
  }
  if (!args.length) return;
  try {
    await f.run("usermod", [...args, user.name]);
  } catch (e) {
    throw new RemapError(`Error during "${user.name}" user creation: ${(e as Error).message.trim()}`);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * Resolves `--userns-remap` to its user, group and ranges; undefined for root (dockerd turns remapping off
 * then). `default` creates dockremap, and its ranges, when missing. A user without ranges is an error.
 */
export async function resolveRemapUser(spec: string, f: AccountFiles): Promise<RemapUser | undefined> {
  let parsed = parseSpec(spec, f);
  if (parsed === "create") {
    await createDefaultUser(f);
    parsed = { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER };
  }
  if (parsed.user === "root") return undefined;
  const entry = readDb(f.passwd).find((u) => u.name === parsed.user);
  if (!entry)
    throw new RemapError(`Error during uid lookup for "${parsed.user}": ${notFound(parsed.user, "passwd")}`);
  if (spec.split(":")[0] === "default") await addRanges(entry, f);
  // As dockerd's LoadIdentityMapping: both files are looked up by the user's name (or uid).
  const uidRanges = parseSubids(readText(f.subuid), entry);
  if (!uidRanges.length)
    throw new RemapError(`Can't create ID mappings: no subuid ranges found for user "${parsed.user}"`);
  const gidRanges = parseSubids(readText(f.subgid), entry);
  if (!gidRanges.length)
    throw new RemapError(`Can't create ID mappings: no subgid ranges found for group "${parsed.user}"`);
  return { user: parsed.user, group: parsed.group, uidRanges, gidRanges };
}

/**
 * Makes a user namespace with the given mappings and a network namespace it owns, bound at `o.userPath`
 * and `path`: `unshare --user --net` creates both at once (the new user namespace owns the new network
 * namespace), the holder says it is in them, the daemon (root outside) writes the maps and binds the two
 * namespace files, then ends the holder by closing its stdin. `spawn` starts the holder with piped stdio.
 */
export async function createUserNetns(
  path: string,
  o: UserNetnsOptions,
  spawn: (file: string, args: readonly string[]) => Child,
): Promise<void> {
  const hold = ["/bin/sh", "-c", "echo in; exec cat >/dev/null"];
  // Joining another container's user namespace (its IPC or PID namespace is shared): the new network
  // namespace is made inside that one, which keeps its own maps.
  const [file, args] = o.join
    ? ["nsenter", [`--user=${o.join}`, "--", "unshare", "--net", "--", ...hold]]
    : ["unshare", ["--user", "--net", "--", ...hold]];
  const holder = spawn(file, args);
  const exited = new Promise<void>((resolve) => holder.on("close", () => resolve()));
  let stderr = "";
  holder.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.on("error", reject);
      holder.stdout?.once("data", () => resolve());
      holder.on("close", (code) => reject(new Error(`unshare exited with ${code}: ${stderr.trim()}`)));
    });
    // Its output can come before the worker has told us its pid.
    const pid =
      holder.pid ??
      (await new Promise<number | undefined>((resolve) => holder.once("spawn", () => resolve(holder.pid))));
    if (!pid) throw new Error("unshare has no pid");
    const lines = (m: readonly IdMapLine[]) =>
      m.map((l) => `${l.containerID} ${l.hostID} ${l.size}\n`).join("");
    if (!o.join) {
      await writeFile(`/proc/${pid}/uid_map`, lines(o.uidMappings));
      await writeFile(`/proc/${pid}/gid_map`, lines(o.gidMappings));
    }
    await writeFile(o.userPath, "", { flag: "a" });
    const n = native();
    await n.mountAsync(`/proc/${pid}/ns/user`, o.userPath, null, MountFlags.BIND, null, null);
    await n.mountAsync(`/proc/${pid}/ns/net`, path, null, MountFlags.BIND, null, null);
  } finally {
    holder.stdin?.end();
    await exited;
  }
}
