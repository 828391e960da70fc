/**
 * The environment a legacy `--link` on the default bridge gives the linking container, as dockerd writes it:
 * `<ALIAS>_PORT` (the lowest exposed port, tcp before udp), for runs of three or more consecutive ports a
 * `_START`/`_END` block, then `<ALIAS>_PORT_<port>_<PROTO>` with `_ADDR`, `_PORT` and `_PROTO` for every
 * exposed port, `<ALIAS>_NAME` (`/<container>/<alias>`) and `<ALIAS>_ENV_<VAR>` for the linked container's
 * own variables but HOME and PATH. The alias is upper-cased with `-` as `_`.
 */

/** One link, as setup knows it. */
export interface LinkFacts {
  /** The linking container's name, without the slash. */
  parent: string;
  alias: string;
  /** The linked container's address on the default bridge. */
  ip: string;
  /** The linked container's Config.Env. */
  env: string[];
  /** The linked container's exposed ports ("80/tcp"). */
  exposed: string[];
}

interface Port {
  num: number;
  proto: string;
}

function parsePort(p: string): Port | undefined {
  const [n, proto = "tcp"] = p.split("/");
  const num = Number(n);
  return Number.isInteger(num) ? { num, proto: proto.toLowerCase() } : undefined;
}

/** Index of the last port of the run starting at `from` whose numbers go up by one (dockerd's counting). */
function runEnd(ports: Port[], from: number): number {
  let value = ports[from].num;
  for (let i = from + 1; i < ports.length; i++) {
    if (ports[i].num > value + 1) return i - 1;
    value++;
  }
  return ports.length - 1;
}

/** The variables of one link. */
export function linkEnv(l: LinkFacts): string[] {
  const A = l.alias.toUpperCase().replaceAll("-", "_");
  const ports = l.exposed
    .map(parsePort)
    .filter((p): p is Port => p !== undefined)
    .sort((a, b) => a.num - b.num || (a.proto === "tcp" ? -1 : 0) - (b.proto === "tcp" ? -1 : 0));
  const out: string[] = [];
  const url = (p: Port) => `${p.proto}://${l.ip}:${p.num}`;
  const key = (p: Port) => `${A}_PORT_${p.num}_${p.proto.toUpperCase()}`;
  if (ports.length) out.push(`${A}_PORT=${url(ports[0])}`);
  for (let i = 0; i < ports.length; ) {
    const j = runEnd(ports, i);
    if (j > i + 1) {
      const p = ports[i];
      const q = ports[j];
      const k = `${A}_PORT_${p.num}_${q.proto.toUpperCase()}`;
      out.push(`${key(p)}_START=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PROTO=${p.proto}`);
      out.push(`${key(p)}_PORT_START=${p.num}`, `${k}_END=${url(q)}`, `${k}_PORT_END=${q.num}`);
      i = j + 1;
    } else i++;
  }
  for (const p of ports) {
    out.push(`${key(p)}=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PORT=${p.num}`);
    out.push(`${key(p)}_PROTO=${p.proto}`);
  }
  out.push(`${A}_NAME=/${l.parent}/${l.alias}`);
  for (const v of l.env) {
    const i = v.indexOf("=");
    if (i < 0) continue;
    const name = v.slice(0, i);
    if (name === "HOME" || name === "PATH") continue;
    out.push(`${A}_ENV_${name}=${v.slice(i + 1)}`);
  }
  return out;
}
