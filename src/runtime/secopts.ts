/**
 * HostConfig.SecurityOpt as dockerd reads it: `no-new-privileges[=bool]`, `seccomp=unconfined|builtin|<JSON>`
 * (the docker CLI reads a profile file and sends its content), `apparmor=<profile>`, `label=<opt>` (and the
 * old `key:value` spelling). Anything else is refused with Docker's texts.
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import { parseSeccompProfile, type SeccompChoice } from "./seccomp.ts";

/** What a container's security options ask for; absent fields mean the daemon's defaults. */
export interface SecurityOptions {
  noNewPrivileges?: boolean;
  seccomp?: SeccompChoice;
  /** Kept and reported as given; this host has no AppArmor, so nothing is loaded (as dockerd does there). */
  apparmor?: string;
  /** SELinux label options; without SELinux on the host they change nothing, as in Docker. */
  labels: string[];
}

/** Docker's boolean spellings (Go's strconv.ParseBool). */
function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/** `seccomp=` values: a keyword or a whole profile as JSON. */
export function seccompChoice(value: string): SeccompChoice {
  if (value === "unconfined") return { kind: "unconfined" };
  if (value === "builtin" || value === "") return { kind: "builtin" };
  return { kind: "profile", profile: parseSeccompProfile(value) };
}

/** Parses SecurityOpt entries; InvalidParameterError for what dockerd refuses. */
export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { labels: [] };
  for (const opt of opts ?? []) {
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "disable") {
      out.labels.push("disable");
      continue;
    }
    const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : "";
    if (!sep) throw new InvalidParameterError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case "label":
        out.labels.push(value);
        break;
      case "apparmor":
        out.apparmor = value;
        break;
      case "seccomp":
        out.seccomp = seccompChoice(value);
        break;
      case "no-new-privileges": {
        const b = parseBool(value);
        if (b === undefined)
          throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      default:
        throw new InvalidParameterError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}
