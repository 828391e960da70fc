/**
 * seccomp profiles in Docker's format (what `--security-opt seccomp=<file>` and the daemon's
 * `--seccomp-profile` take) and their translation into the OCI spec's linux.seccomp for one container: rules
 * are kept or dropped by the container's capabilities, the host's architecture and kernel, as dockerd does.
 */
import { release } from "node:os";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciSeccomp, OciSeccompArg, OciSeccompRule } from "../oci/index.ts";
import { ociArch } from "../util/index.ts";

/** A condition on one argument of a call. */
export interface DockerSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** When a rule applies: every listed capability held, the host's architecture among `arches`, kernel ≥ minKernel. */
export interface DockerSeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** One rule of a Docker profile. */
export interface DockerSeccompRule {
  name?: string;
  names?: string[];
  action: string;
  args?: DockerSeccompArg[] | null;
  errnoRet?: number;
  comment?: string;
  includes?: DockerSeccompFilter;
  /** The rule is dropped when any listed capability is held, the arch matches, or the kernel is ≥ minKernel. */
  excludes?: DockerSeccompFilter;
}

/** A seccomp profile as Docker reads it (moby's profiles/seccomp JSON). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  listenerPath?: string;
  listenerMetadata?: string;
  flags?: string[];
  syscalls?: DockerSeccompRule[] | null;
}

/** What a container runs under: the built-in profile, none, or a profile given as JSON. */
export type SeccompChoice =
  | { kind: "builtin" }
  | { kind: "unconfined" }
  | { kind: "profile"; profile: DockerSeccompProfile };

const ACTIONS = new Set([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
]);

const OPS = new Set([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);

/** OCI's architecture names that Docker profiles spell otherwise in includes/excludes. */
const PROFILE_ARCH: Record<string, string> = { "386": "x86" };

/** Docker's architecture names → libseccomp's, to pick the archMap entry of the host. */
const SECCOMP_ARCH: Record<string, string> = {
  amd64: "SCMP_ARCH_X86_64",
  x86: "SCMP_ARCH_X86",
  arm64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  ppc64le: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X",
  riscv64: "SCMP_ARCH_RISCV64",
};

function fail(msg: string): never {
  throw new InvalidParameterError(`Decoding seccomp profile failed: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) fail(`${what} must be an array of strings`);
  return v as string[];
}

function filter(v: unknown, what: string): DockerSeccompFilter | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(`${what} must be an object`);
  if (v.minKernel !== undefined && (typeof v.minKernel !== "string" || !/^\d+\.\d+$/.test(v.minKernel)))
    fail(`${what}.minKernel: invalid kernel version: ${String(v.minKernel)}`);
  return {
    caps: strings(v.caps, `${what}.caps`),
    arches: strings(v.arches, `${what}.arches`),
    minKernel: v.minKernel as string | undefined,
  };
}

function rule(v: unknown, i: number): DockerSeccompRule {
  if (!isObject(v)) fail(`syscalls[${i}] must be an object`);
  if (typeof v.action !== "string" || !ACTIONS.has(v.action))
    fail(`syscalls[${i}]: unknown action ${JSON.stringify(v.action)}`);
  const names = strings(v.names, `syscalls[${i}].names`) ?? [];
  if (v.name !== undefined && v.name !== "") {
    if (typeof v.name !== "string") fail(`syscalls[${i}].name must be a string`);
    // Docker's own message for a rule that gives both.
    if (names.length) throw new InvalidParameterError("use either 'name' or 'names'");
    names.push(v.name);
  }
  const args: DockerSeccompArg[] = [];
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) fail(`syscalls[${i}].args must be an array`);
    for (const a of v.args) {
      if (!isObject(a) || typeof a.index !== "number" || typeof a.value !== "number")
        fail(`syscalls[${i}].args: index and value must be numbers`);
      if (typeof a.op !== "string" || !OPS.has(a.op)) fail(`syscalls[${i}].args: unknown op ${String(a.op)}`);
      if (a.valueTwo !== undefined && typeof a.valueTwo !== "number")
        fail(`syscalls[${i}].args: valueTwo must be a number`);
      args.push({ index: a.index, value: a.value, valueTwo: a.valueTwo as number | undefined, op: a.op });
    }
  }
  if (v.errnoRet !== undefined && typeof v.errnoRet !== "number")
    fail(`syscalls[${i}].errnoRet must be a number`);
  return {
    names,
    action: v.action,
    args,
    errnoRet: v.errnoRet as number | undefined,
    includes: filter(v.includes, `syscalls[${i}].includes`),
    excludes: filter(v.excludes, `syscalls[${i}].excludes`),
  };
}

/** Reads a profile in Docker's JSON format; bad JSON or shapes are InvalidParameterErrors with Docker's prefix. */
export function parseSeccompProfile(json: string): DockerSeccompProfile {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    fail((e as Error).message);
  }
  if (!isObject(v)) fail("the profile must be a JSON object");
  if (typeof v.defaultAction !== "string" || !ACTIONS.has(v.defaultAction))
    fail(`unknown defaultAction ${JSON.stringify(v.defaultAction)}`);
  if (v.defaultErrnoRet !== undefined && typeof v.defaultErrnoRet !== "number")
    fail("defaultErrnoRet must be a number");
  const architectures = strings(v.architectures, "architectures");
  let archMap: DockerSeccompProfile["archMap"];
  if (v.archMap !== undefined && v.archMap !== null) {
    if (!Array.isArray(v.archMap)) fail("archMap must be an array");
    archMap = v.archMap.map((a: unknown) => {
      if (!isObject(a) || typeof a.architecture !== "string") fail("archMap entries need an architecture");
      return {
        architecture: a.architecture,
        subArchitectures: strings(a.subArchitectures, "subArchitectures"),
      };
    });
  }
  if (architectures?.length && archMap?.length)
    throw new InvalidParameterError(
      "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  if (v.syscalls !== undefined && v.syscalls !== null && !Array.isArray(v.syscalls))
    fail("syscalls must be an array");
  const syscalls = ((v.syscalls as unknown[] | null | undefined) ?? []).map(rule);
  const out: DockerSeccompProfile = { defaultAction: v.defaultAction, syscalls };
  if (typeof v.defaultErrnoRet === "number") out.defaultErrnoRet = v.defaultErrnoRet;
  if (architectures) out.architectures = architectures;
  if (archMap) out.archMap = archMap;
  if (typeof v.listenerPath === "string") out.listenerPath = v.listenerPath;
  if (typeof v.listenerMetadata === "string") out.listenerMetadata = v.listenerMetadata;
  const flags = strings(v.flags, "flags");
  if (flags) out.flags = flags;
  return out;
}

/** `major.minor` of a kernel release string, as numbers for comparison. */
function kernelVersion(s: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function atLeast(kernel: [number, number], min: string): boolean {
  const [a, b] = kernelVersion(min);
  return kernel[0] > a || (kernel[0] === a && kernel[1] >= b);
}

/** Whether a rule applies to a container with `caps` on this host (Docker's includes/excludes semantics). */
function applies(
  r: DockerSeccompRule,
  host: { caps: Set<string>; arch: string; kernel: [number, number] },
): boolean {
  const ex = r.excludes;
  if (ex?.arches?.includes(host.arch)) return false;
  if (ex?.caps?.some((c) => host.caps.has(c))) return false;
  if (ex?.minKernel && atLeast(host.kernel, ex.minKernel)) return false;
  const inc = r.includes;
  if (inc?.arches?.length && !inc.arches.includes(host.arch)) return false;
  if (inc?.caps?.length && !inc.caps.every((c) => host.caps.has(c))) return false;
  if (inc?.minKernel && !atLeast(host.kernel, inc.minKernel)) return false;
  return true;
}

/**
 * The linux.seccomp of a container holding `caps` (its bounding set): the profile's rules that apply on this
 * host, architectures from its archMap entry for the host's architecture.
 */
export function seccompToOci(
  profile: DockerSeccompProfile,
  opts: { caps: readonly string[]; arch?: string; kernel?: string },
): OciSeccomp {
  const oci = ociArch(opts.arch);
  const arch = PROFILE_ARCH[oci] ?? oci;
  const host = { caps: new Set(opts.caps), arch, kernel: kernelVersion(opts.kernel ?? release()) };
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const arches = [...(profile.architectures ?? [])];
  const native = SECCOMP_ARCH[arch];
  for (const a of profile.archMap ?? [])
    if (a.architecture === native) arches.push(a.architecture, ...(a.subArchitectures ?? []));
  if (arches.length) out.architectures = arches;
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  if (profile.flags?.length) out.flags = [...profile.flags];
  const rules: OciSeccompRule[] = [];
  for (const r of profile.syscalls ?? []) {
    if (!applies(r, host)) continue;
    const names = [...(r.names ?? []), ...(r.name ? [r.name] : [])];
    if (!names.length) continue;
    const oci: OciSeccompRule = { names, action: r.action };
    if (r.errnoRet !== undefined) oci.errnoRet = r.errnoRet;
    if (r.args?.length)
      oci.args = r.args.map(
        (a): OciSeccompArg => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }),
      );
    rules.push(oci);
  }
  out.syscalls = rules;
  return out;
}
