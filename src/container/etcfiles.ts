import { readFile } from "node:fs/promises";

/** /etc/hosts for a container: loopback names, then its own address and names when it has a network. */
export function hostsFile(opts: {
  hostname: string;
  domainname?: string;
  ip?: string;
  /** Its IPv6 address, on a network with IPv6: a second line for the same names, as dockerd writes. */
  ip6?: string;
  extra?: string[];
  /** Host networking: the host's own /etc/hosts takes the place of the loopback lines. */
  base?: string;
}): string {
  const lines =
    opts.base !== undefined
      ? [opts.base.trimEnd()]
      : [
          "127.0.0.1\tlocalhost",
          "::1\tlocalhost ip6-localhost ip6-loopback",
          "fe00::0\tip6-localnet",
          "ff00::0\tip6-mcastprefix",
          "ff02::1\tip6-allnodes",
          "ff02::2\tip6-allrouters",
        ];
  for (const e of opts.extra ?? []) {
    // --add-host host:ip (the CLI sends "host:ip"); Docker writes "ip\thost".
    const i = e.lastIndexOf(":");
    if (i > 0) lines.push(`${e.slice(i + 1)}\t${e.slice(0, i)}`);
  }
  if (opts.ip) {
    const fqdn = opts.domainname ? `${opts.hostname}.${opts.domainname} ` : "";
    lines.push(`${opts.ip}\t${fqdn}${opts.hostname}`);
    if (opts.ip6) lines.push(`${opts.ip6}\t${fqdn}${opts.hostname}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * resolv.conf from the host's, as Docker does: loopback nameservers are useless inside the container's
 * network namespace, so they are dropped (and public defaults are not added: this machine has no egress).
 */
export async function resolvConf(opts: {
  hostPath?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** Host networking: the host's loopback resolvers are reachable, so they stay. */
  keepLoopback?: boolean;
}): Promise<string> {
  let host = "";
  try {
    host = await readFile(opts.hostPath ?? "/etc/resolv.conf", "utf8");
  } catch {
    host = "";
  }
  const out: string[] = [];
  const ns = opts.dns?.length
    ? opts.dns
    : host
        .split("\n")
        .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
        .filter((a): a is string => !!a && (!!opts.keepLoopback || (!a.startsWith("127.") && a !== "::1")));
  const search = opts.dnsSearch?.length
    ? opts.dnsSearch
    : host.split("\n").flatMap((l) => /^\s*(?:search|domain)\s+(.+)/.exec(l)?.[1].trim().split(/\s+/) ?? []);
  const options = opts.dnsOptions?.length
    ? opts.dnsOptions
    : host.split("\n").flatMap((l) => /^\s*options\s+(.+)/.exec(l)?.[1].trim().split(/\s+/) ?? []);
  if (search.length) out.push(`search ${search.join(" ")}`);
  for (const n of ns) out.push(`nameserver ${n}`);
  if (options.length) out.push(`options ${options.join(" ")}`);
  return `${out.join("\n")}\n`;
}
