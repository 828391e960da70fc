/**
 * CRI security contexts as HostConfig fields: the user, capabilities, seccomp, no_new_privs, masked and
 * read-only paths, and the OOM score, each with containerd's reading of an absent field.
 */
import { readFile } from "node:fs/promises";
import type { ContainerCreateRequest } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { LinuxContainerSecurityContext, LinuxSandboxSecurityContext, SecurityProfile } from "./types.ts";

type HostConfig = NonNullable<ContainerCreateRequest["HostConfig"]>;

/** The daemon's own oom_score_adj: a container's is never set below it (that needs CAP_SYS_RESOURCE). */
export async function ownOomScoreAdj(): Promise<number> {
  try {
    return Number((await readFile("/proc/self/oom_score_adj", "utf8")).trim()) || 0;
  } catch {
    return 0;
  }
}

/** `requested`, raised to the daemon's own score when below it. */
export function clampOomScoreAdj(requested: number, own: number): number {
  return Math.max(requested, own);
}

/** Capability names as Docker takes them ("CAP_" optional, "ALL" as is). */
function capName(c: string): string {
  const u = c.toUpperCase();
  return u === "ALL" || u.startsWith("CAP_") ? u : `CAP_${u}`;
}

/** The seccomp security option of a profile: runtime/default is the built-in one, absent is unconfined. */
export async function seccompOpt(
  profile: SecurityProfile | null,
  legacyPath: string,
): Promise<string | undefined> {
  let localhost: string | undefined;
  if (profile) {
    if (profile.profileType === 1) return "seccomp=unconfined";
    if (profile.profileType === 0) return undefined;
    localhost = profile.localhostRef;
  } else {
    // The deprecated string field: "", "unconfined", "runtime/default", "docker/default", "localhost/<path>".
    if (legacyPath === "runtime/default" || legacyPath === "docker/default") return undefined;
    if (!legacyPath || legacyPath === "unconfined") return "seccomp=unconfined";
    if (!legacyPath.startsWith("localhost/"))
      throw new InvalidParameterError(`unsupported seccomp profile "${legacyPath}"`);
    localhost = legacyPath.slice("localhost/".length);
  }
  if (!localhost?.startsWith("/"))
    throw new InvalidParameterError(`seccomp localhost profile must be an absolute path: "${localhost}"`);
  let text: string;
  try {
    text = await readFile(localhost, "utf8");
  } catch (e) {
    throw new InvalidParameterError(`failed to load seccomp profile "${localhost}": ${(e as Error).message}`);
  }
  return `seccomp=${text}`;
}

/** Docker's User string of a CRI user: a uid or a name, with a gid when given. */
export function userOf(sc: {
  runAsUser: { value: number } | null;
  runAsUsername?: string;
  runAsGroup: { value: number } | null;
}): string {
  const user = sc.runAsUser ? String(sc.runAsUser.value) : (sc.runAsUsername ?? "");
  if (!sc.runAsGroup) return user;
  // containerd's rule: a group alone would silently run as root.
  if (!user) throw new InvalidParameterError(`user group "${sc.runAsGroup.value}" is specified without user`);
  return `${user}:${sc.runAsGroup.value}`;
}

/** The HostConfig security fields of a container's security context. */
export async function containerSecurity(
  sc: LinuxContainerSecurityContext | null,
): Promise<
  Pick<
    HostConfig,
    | "Privileged"
    | "ReadonlyRootfs"
    | "CapAdd"
    | "CapDrop"
    | "GroupAdd"
    | "SecurityOpt"
    | "MaskedPaths"
    | "ReadonlyPaths"
  > & { User: string }
> {
  if (!sc) return { User: "", SecurityOpt: ["seccomp=unconfined"] };
  const opts: string[] = [];
  const seccomp = await seccompOpt(sc.seccomp, sc.seccompProfilePath);
  if (seccomp) opts.push(seccomp);
  if (sc.noNewPrivs) opts.push("no-new-privileges");
  return {
    User: userOf(sc),
    Privileged: sc.privileged,
    ReadonlyRootfs: sc.readonlyRootfs,
    CapAdd: (sc.capabilities?.addCapabilities ?? []).map(capName),
    CapDrop: (sc.capabilities?.dropCapabilities ?? []).map(capName),
    GroupAdd: sc.supplementalGroups.map(String),
    SecurityOpt: opts,
    // containerd keeps the runtime's defaults when kubelet sends none.
    ...(sc.maskedPaths.length ? { MaskedPaths: sc.maskedPaths } : {}),
    ...(sc.readonlyPaths.length ? { ReadonlyPaths: sc.readonlyPaths } : {}),
  };
}

/** The HostConfig security fields of a sandbox's (the pause process's) security context. */
export async function sandboxSecurity(
  sc: LinuxSandboxSecurityContext | null,
): Promise<
  Pick<HostConfig, "Privileged" | "ReadonlyRootfs" | "GroupAdd" | "SecurityOpt"> & { User: string }
> {
  if (!sc) return { User: "", SecurityOpt: ["seccomp=unconfined"] };
  const seccomp = await seccompOpt(sc.seccomp, sc.seccompProfilePath);
  return {
    User: userOf(sc),
    Privileged: sc.privileged,
    ReadonlyRootfs: sc.readonlyRootfs,
    GroupAdd: sc.supplementalGroups.map(String),
    SecurityOpt: seccomp ? [seccomp] : [],
  };
}
