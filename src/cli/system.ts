// `version` and `info`, laid out like docker's.
import type { SystemInfo, SystemVersion } from "../apitypes/index.ts";
import { bytesSize, ociArch } from "../util/index.ts";
import { type CommandDef, StatusError, str, write } from "./common.ts";
import { compileTemplate, TemplateError } from "./format/index.ts";

/** The wharf client's version. */
export const CLIENT_VERSION = "0.1.0";
const API_VERSION = "1.47";

const formatFlag = {
  name: "format",
  short: "f",
  type: "string" as const,
  desc: "Format output using a custom template: 'json' or 'TEMPLATE' (Go template)",
};

function runTemplate(format: string, data: unknown): string {
  const src = format === "json" ? "{{json .}}" : format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  try {
    return `${compileTemplate(src).execute(data)}\n`;
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
    throw err;
  }
}

function clientInfo(): Record<string, unknown> {
  return {
    Version: CLIENT_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: "",
    GoVersion: `node ${process.version}`,
    Os: process.platform,
    Arch: ociArch(),
    BuildTime: "",
    Context: "default",
  };
}

function line(label: string, value: unknown, width: number): string {
  return `${label}:${" ".repeat(Math.max(1, width - label.length))}${value ?? ""}\n`;
}

/** Go's time.ANSIC in local time (`Mon Jan  2 15:04:05 2006`), as docker shows build times; else as given. */
function ansic(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (!rfc3339 || Number.isNaN(d.getTime())) return rfc3339;
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number): string => String(n).padStart(2, "0");
  return (
    `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`
  );
}

function serverText(v: SystemVersion): string {
  let s = `Server:${v.Platform?.Name ? ` ${v.Platform.Name}` : ""}\n`;
  const comps = v.Components?.length
    ? v.Components
    : [{ Name: "Engine", Version: v.Version, Details: null as Record<string, string> | null }];
  for (const c of comps) {
    s += ` ${c.Name}:\n`;
    if (c.Name === "Engine") {
      const d: Record<string, unknown> = { ...v, ...(c.Details ?? {}) };
      s += line("  Version", c.Version, 19);
      s += line("  API version", `${d.ApiVersion} (minimum version ${d.MinAPIVersion})`, 19);
      s += line("  Go version", d.GoVersion, 19);
      s += line("  Git commit", d.GitCommit, 19);
      s += line("  Built", ansic(String(d.BuildTime ?? "")), 19);
      s += line("  OS/Arch", `${d.Os}/${d.Arch}`, 19);
      s += line("  Experimental", d.Experimental ?? false, 19);
    } else {
      s += line("  Version", c.Version, 19);
      for (const [k, val] of Object.entries(c.Details ?? {})) s += line(`  ${k}`, val, 19);
    }
  }
  return s;
}

const version: CommandDef = {
  spec: {
    name: "version",
    usage: "version [OPTIONS]",
    desc: "Show the wharf version information",
    maxArgs: 0,
    flags: [formatFlag],
  },
  async run(cli, p) {
    const client = clientInfo();
    const format = str(p, "format");
    let server: SystemVersion | undefined;
    let error: unknown;
    try {
      server = await cli.client().version();
    } catch (err) {
      error = err;
    }
    if (format) {
      await write(cli.out, runTemplate(format, { Client: client, Server: server ?? null }));
    } else {
      let s = "Client:\n";
      s += line(" Version", client.Version, 19);
      s += line(" API version", client.ApiVersion, 19);
      s += line(" Go version", client.GoVersion, 19);
      s += line(" OS/Arch", `${client.Os}/${client.Arch}`, 19);
      s += line(" Context", client.Context, 19);
      if (server) s += `\n${serverText(server)}`;
      await write(cli.out, s);
    }
    if (error) throw error;
    return 0;
  },
};

function infoText(i: SystemInfo): string {
  const L: string[] = [];
  const kv = (indent: number, k: string, v: unknown): void => {
    L.push(`${" ".repeat(indent)}${k}: ${v ?? ""}`);
  };
  kv(1, "Containers", i.Containers ?? 0);
  kv(2, "Running", i.ContainersRunning ?? 0);
  kv(2, "Paused", i.ContainersPaused ?? 0);
  kv(2, "Stopped", i.ContainersStopped ?? 0);
  kv(1, "Images", i.Images ?? 0);
  kv(1, "Server Version", i.ServerVersion);
  kv(1, "Storage Driver", i.Driver);
  for (const [k, v] of i.DriverStatus ?? []) kv(2, k, v);
  kv(1, "Logging Driver", i.LoggingDriver);
  kv(1, "Cgroup Driver", i.CgroupDriver);
  kv(1, "Cgroup Version", i.CgroupVersion);
  L.push(" Plugins:");
  kv(2, "Volume", (i.Plugins?.Volume ?? []).join(" "));
  kv(2, "Network", (i.Plugins?.Network ?? []).join(" "));
  kv(2, "Log", (i.Plugins?.Log ?? []).join(" "));
  kv(1, "Swarm", i.Swarm?.LocalNodeState || "inactive");
  kv(1, "Runtimes", Object.keys(i.Runtimes ?? {}).join(" "));
  kv(1, "Default Runtime", i.DefaultRuntime);
  kv(1, "Init Binary", i.InitBinary);
  kv(1, "containerd version", i.ContainerdCommit?.ID);
  kv(1, "runc version", i.RuncCommit?.ID);
  kv(1, "init version", i.InitCommit?.ID);
  if (i.SecurityOptions?.length) {
    L.push(" Security Options:");
    for (const o of i.SecurityOptions) {
      // "name=seccomp,profile=builtin" prints as the name, then one "Key: value" line per other field.
      const [name, ...rest] = o.split(",");
      L.push(`  ${(name ?? "").replace(/^name=/, "")}`);
      for (const kvp of rest) {
        const [k = "", v = ""] = kvp.split("=", 2);
        L.push(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
      }
    }
  }
  kv(1, "Kernel Version", i.KernelVersion);
  kv(1, "Operating System", i.OperatingSystem);
  kv(1, "OSType", i.OSType);
  kv(1, "Architecture", i.Architecture);
  kv(1, "CPUs", i.NCPU);
  kv(1, "Total Memory", bytesSize(i.MemTotal ?? 0));
  kv(1, "Name", i.Name);
  kv(1, "ID", i.ID);
  kv(1, "Docker Root Dir", i.DockerRootDir);
  kv(1, "Debug Mode", i.Debug ?? false);
  kv(1, "Experimental", i.ExperimentalBuild ?? false);
  const insecure = i.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) {
    L.push(" Insecure Registries:");
    for (const c of insecure) L.push(`  ${c}`);
  }
  kv(1, "Live Restore Enabled", i.LiveRestoreEnabled ?? false);
  let s = `${L.join("\n")}\n`;
  if (i.Warnings?.length) s += `\n${i.Warnings.join("\n")}\n`;
  return s;
}

const info: CommandDef = {
  spec: {
    name: "info",
    usage: "info [OPTIONS]",
    desc: "Display system-wide information",
    aliases: ["system info", "info"],
    maxArgs: 0,
    flags: [formatFlag],
  },
  async run(cli, p) {
    const format = str(p, "format");
    if (format) {
      const i = await cli.client().info();
      await write(cli.out, runTemplate(format, i));
      return 0;
    }
    let s = `Client:\n Version:    ${CLIENT_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`;
    try {
      const i = await cli.client().info();
      s += infoText(i);
      await write(cli.out, s);
    } catch (err) {
      await write(cli.out, s);
      throw err;
    }
    return 0;
  },
};

/** The system commands, by key. */
export const commands: Record<string, CommandDef> = { version, info };
