import { posix } from "node:path";
import type { HealthConfig } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciRunConfig } from "../oci/index.ts";
import { parseGoDuration } from "../util/index.ts";

/** The Dockerfile instructions `docker import --change` and `docker commit --change` accept (as Docker's). */
const VALID = new Set([
  "cmd",
  "entrypoint",
  "env",
  "expose",
  "healthcheck",
  "label",
  "onbuild",
  "shell",
  "stopsignal",
  "user",
  "volume",
  "workdir",
]);

/** Applies Dockerfile-style change lines (`CMD ["sh"]`, `ENV A=1`, `EXPOSE 80/udp`, ...) to a run config. */
export function applyChanges(base: OciRunConfig, changes: readonly string[]): OciRunConfig {
  const cfg: OciRunConfig = structuredClone(base);
  let cmdSet = false;
  for (const line of joinContinuations(changes)) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
    if (!m || m[1].startsWith("#")) continue;
    const instr = m[1].toLowerCase();
    const rest = m[2].trim();
    if (!VALID.has(instr)) throw new InvalidParameterError(`${instr} is not a valid change command`);
    const env = cfg.Env ?? [];
    switch (instr) {
      case "cmd":
        cfg.Cmd = commandForm(rest, cfg.Shell);
        cmdSet = true;
        break;
      case "entrypoint":
        cfg.Entrypoint = commandForm(rest, cfg.Shell);
        // As in a Dockerfile: a new ENTRYPOINT drops an inherited CMD unless CMD was given alongside it.
        if (!cmdSet) cfg.Cmd = null;
        break;
      case "env":
        for (const [k, v] of keyValues("ENV", rest, env)) {
          const kept = (cfg.Env ?? []).filter((e) => e.split("=")[0] !== k);
          cfg.Env = [...kept, `${k}=${v}`];
        }
        break;
      case "label":
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of keyValues("LABEL", rest, env)) cfg.Labels[k] = v;
        break;
      case "workdir": {
        const dir = expand(rest, env);
        cfg.WorkingDir = posix.resolve(cfg.WorkingDir || "/", dir);
        break;
      }
      case "user":
        cfg.User = expand(rest, env);
        break;
      case "expose":
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const w of words(rest, env)) for (const p of parsePorts(w)) cfg.ExposedPorts[p] = {};
        break;
      case "volume": {
        const list = jsonArray(rest) ?? words(rest, env);
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        for (const v of list) {
          if (!v.trim()) throw new InvalidParameterError("VOLUME specified can not be an empty string");
          cfg.Volumes[v] = {};
        }
        break;
      }
      case "stopsignal":
        cfg.StopSignal = expand(rest, env);
        break;
      case "onbuild": {
        const trig = /^\s*(\S+)/.exec(rest)?.[1]?.toUpperCase();
        if (!trig) throw new InvalidParameterError("ONBUILD requires at least one argument");
        if (trig === "ONBUILD")
          throw new InvalidParameterError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trig === "FROM" || trig === "MAINTAINER") {
          throw new InvalidParameterError(`${trig} isn't allowed as an ONBUILD trigger`);
        }
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.replace(/^\s*\S+/, trig)];
        break;
      }
      case "shell": {
        const sh = jsonArray(rest);
        if (!sh) throw new InvalidParameterError("SHELL requires the arguments to be in JSON form");
        cfg.Shell = sh;
        break;
      }
      case "healthcheck":
        cfg.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return cfg;
}

function joinContinuations(changes: readonly string[]): string[] {
  const out: string[] = [];
  for (const change of changes) {
    let cur = "";
    for (const raw of change.split("\n")) {
      if (raw.endsWith("\\")) cur += `${raw.slice(0, -1)} `;
      else {
        out.push(cur + raw);
        cur = "";
      }
    }
    if (cur) out.push(cur);
  }
  return out.filter((l) => l.trim() !== "");
}

/** JSON exec form when `rest` is a JSON array of strings, else undefined. */
function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {
    // Not JSON: Docker then treats the text as shell form.
  }
  return undefined;
}

function commandForm(rest: string, shell: string[] | undefined): string[] {
  return jsonArray(rest) ?? [...(shell ?? ["/bin/sh", "-c"]), rest];
}

/** `$VAR` and `${VAR}` from the image env (as the Dockerfile builder expands them); `\$` stays literal. */
function expand(s: string, env: readonly string[]): string {
  const vars = new Map(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return s.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, a, b) =>
    all === "\\$" ? "$" : (vars.get(a ?? b) ?? ""),
  );
}

/** Splits on whitespace, honouring quotes and backslash escapes, expanding variables outside single quotes. */
function words(s: string, env: readonly string[]): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0)
        throw new InvalidParameterError(
          "unexpected end of statement while looking for matching single-quote",
        );
      cur += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let q = "";
      for (; j < s.length && s[j] !== '"'; j++) q += s[j] === "\\" && j + 1 < s.length ? s[++j] : s[j];
      if (j >= s.length)
        throw new InvalidParameterError(
          "unexpected end of statement while looking for matching double-quote",
        );
      cur += expand(q, env);
      i = j;
    } else if (c === "$") {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(s.slice(i));
      if (m) {
        cur += expand(m[0], env);
        i += m[0].length - 1;
      } else cur += c;
    } else cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** `k=v k2="v 2"` pairs, or the legacy `KEY value with spaces` form (one pair). */
function keyValues(instr: string, rest: string, env: readonly string[]): [string, string][] {
  const ws = words(rest, env);
  if (ws.length === 0) throw new InvalidParameterError(`${instr} requires at least one argument`);
  if (!ws[0].includes("=")) {
    if (ws.length < 2) throw new InvalidParameterError(`${instr} must have two arguments`);
    const value = rest.trim().replace(/^\S+\s+/, "");
    return [[ws[0], expand(value, env)]];
  }
  return ws.map((w) => {
    const i = w.indexOf("=");
    if (i <= 0) throw new InvalidParameterError(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

/** `80`, `80/udp`, `8000-8002/tcp` → ["80/tcp"], ... */
function parsePorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([a-zA-Z]+))?$/.exec(spec);
  if (!m) throw new InvalidParameterError(`invalid containerPort: ${spec}`);
  const proto = (m[3] ?? "tcp").toLowerCase();
  if (!["tcp", "udp", "sctp"].includes(proto)) throw new InvalidParameterError(`invalid proto: ${proto}`);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start)
    throw new InvalidParameterError(`invalid port range: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

/** A Go duration ("30s", "1m30s", "500ms") in nanoseconds. */
function parseDuration(flag: string, v: string): number {
  try {
    return parseGoDuration(v);
  } catch {
    throw new InvalidParameterError(`invalid duration for --${flag}: ${v}`);
  }
}

function healthcheck(rest: string): HealthConfig {
  let s = rest;
  const hc: HealthConfig = {};
  for (let m = /^--([a-z-]+)=(\S+)\s*/.exec(s); m; m = /^--([a-z-]+)=(\S+)\s*/.exec(s)) {
    const [, flag, value] = m;
    if (flag === "retries") hc.Retries = Number.parseInt(value, 10);
    else if (flag === "interval") hc.Interval = parseDuration(flag, value);
    else if (flag === "timeout") hc.Timeout = parseDuration(flag, value);
    else if (flag === "start-period") hc.StartPeriod = parseDuration(flag, value);
    else if (flag === "start-interval") hc.StartInterval = parseDuration(flag, value);
    else throw new InvalidParameterError(`unknown flag: --${flag}`);
    s = s.slice(m[0].length);
  }
  const kind = /^(\S+)\s*/.exec(s);
  if (!kind) throw new InvalidParameterError("HEALTHCHECK requires an argument");
  const what = kind[1].toUpperCase();
  const args = s.slice(kind[0].length);
  if (what === "NONE") {
    if (args.trim() || s !== rest) throw new InvalidParameterError("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  if (what !== "CMD") throw new InvalidParameterError(`Unknown type "${what}" in HEALTHCHECK (try CMD)`);
  const exec = jsonArray(args);
  hc.Test = exec ? ["CMD", ...exec] : ["CMD-SHELL", args];
  return hc;
}
