/**
 * iptables rules for one daemon, in chains whose names carry the daemon's tag (its default bridge name), so two
 * daemons on one host never touch each other's rules. The chains are regenerated as a whole from the driver's
 * in-memory state by one `iptables-restore --noflush` run: declaring a chain flushes it, so every sync (and the
 * first one after a crash) leaves exactly the rules the current state needs. One instance per address family:
 * the IPv6 one drives ip6tables with the same chains for networks with IPv6 and the ports published to them.
 */
import { type Iptables as HostIptables, realHost } from "../host/index.ts";

/** One network's bridge as the rules see it. */
export interface RuleNetwork {
  bridge: string;
  /** The subnet of this instance's family. */
  subnet: string;
  internal: boolean;
}

/** One published port: DNAT from the host to a container. */
export interface RulePort {
  proto: "tcp" | "udp" | "sctp";
  /** "", "0.0.0.0" (IPv4) or "::" (IPv6) for every address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** The names of a daemon's chains. */
export function chainNames(tag: string): {
  dnat: string;
  post: string;
  fwd: string;
  iso: string;
  iso2: string;
} {
  const p = `WHARF-${tag}`;
  return { dnat: p, post: `${p}-POST`, fwd: `${p}-FWD`, iso: `${p}-ISO`, iso2: `${p}-ISO2` };
}

function jumps(tag: string, family: 4 | 6): { table: "nat" | "filter"; chain: string; rule: string }[] {
  const c = chainNames(tag);
  const loopback = family === 6 ? "::1/128" : "127.0.0.0/8";
  return [
    { table: "nat", chain: "PREROUTING", rule: `-m addrtype --dst-type LOCAL -j ${c.dnat}` },
    { table: "nat", chain: "OUTPUT", rule: `! -d ${loopback} -m addrtype --dst-type LOCAL -j ${c.dnat}` },
    { table: "nat", chain: "POSTROUTING", rule: `-j ${c.post}` },
    { table: "filter", chain: "FORWARD", rule: `-j ${c.fwd}` },
  ];
}

/** Lines of `-D` for every rule in a builtin chain that jumps to one of `chains`. */
function staleJumps(saved: string, chains: Set<string>): string[] {
  const out: string[] = [];
  for (const line of saved.split("\n")) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m || chains.has(m[1])) continue;
    const target = /(?:^| )-j (\S+)/.exec(m[2])?.[1];
    if (target && chains.has(target)) out.push(`-D ${m[1]} ${m[2]}`);
  }
  return out;
}

/**
 * Removes every rule and chain of the daemon tagged `tag` (tests, and `wharf` uninstall-style cleanups), from
 * iptables and ip6tables. Given a runner, only that one is cleaned unless `run6` is given too.
 */
export async function removeDaemonRules(tag: string, run?: HostIptables, run6?: HostIptables): Promise<void> {
  const v4 = run ?? realHost().iptables;
  const v6 = run ? run6 : realHost().ip6tables;
  await removeFamilyRules(tag, v4);
  // ip6tables may be missing or have no such tables on a host without IPv6: nothing of ours is there then.
  if (v6) await removeFamilyRules(tag, v6).catch(() => undefined);
}

async function removeFamilyRules(tag: string, run: HostIptables): Promise<void> {
  const c = chainNames(tag);
  const names = new Set(Object.values(c));
  const parts: string[] = [];
  let work = false;
  for (const [table, chains] of [
    ["nat", [c.dnat, c.post]],
    ["filter", [c.fwd, c.iso, c.iso2]],
  ] as const) {
    const saved = await run.save(table);
    const present = chains.filter((ch) => saved.includes(`:${ch} `));
    const stale = staleJumps(saved, names);
    if (present.length || stale.length) work = true;
    parts.push(`*${table}`, ...stale);
    for (const ch of present) parts.push(`-F ${ch}`);
    for (const ch of present) parts.push(`-X ${ch}`);
    parts.push("COMMIT");
  }
  if (work) await run.restore(`${parts.join("\n")}\n`);
}

/** The daemon's iptables state: networks and published ports, synced to the kernel as a whole. */
export class Iptables {
  readonly #tag: string;
  readonly #run: HostIptables;
  readonly #networks = new Map<string, RuleNetwork>();
  readonly #ports = new Map<string, RulePort[]>();
  readonly #family: 4 | 6;
  #initialised = false;
  #running: Promise<void> | undefined;
  #again: Promise<void> | undefined;

  constructor(tag: string, run: HostIptables = realHost().iptables, opts: { family?: 4 | 6 } = {}) {
    this.#tag = tag;
    this.#run = run;
    this.#family = opts.family ?? 4;
  }

  /** Adds or replaces a network's rules (not yet synced). */
  setNetwork(id: string, n: RuleNetwork): void {
    this.#networks.set(id, n);
  }

  /** Drops a network's rules (not yet synced). */
  deleteNetwork(id: string): void {
    this.#networks.delete(id);
  }

  /** Sets the published ports of one container endpoint (an empty list removes them; not yet synced). */
  setPorts(key: string, ports: RulePort[]): void {
    if (ports.length) this.#ports.set(key, ports);
    else this.#ports.delete(key);
  }

  /** Whether an endpoint has DNAT rules. */
  hasPorts(key: string): boolean {
    return this.#ports.has(key);
  }

  /**
   * Writes the current state to the kernel. Calls that arrive while a sync runs share the next one, so a burst
   * of container starts costs two iptables-restore runs, not one each.
   */
  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#write().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#again ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#again = undefined;
        return this.sync();
      });
    return this.#again;
  }

  async #write(): Promise<void> {
    // ip6tables is left alone until a network has IPv6: most daemons never need it.
    if (this.#family === 6 && !this.#initialised && !this.#networks.size) return;
    const v6 = this.#family === 6;
    const c = chainNames(this.#tag);
    const nat = [`*nat`, `:${c.dnat} - [0:0]`, `:${c.post} - [0:0]`];
    const filter = [`*filter`, `:${c.fwd} - [0:0]`, `:${c.iso} - [0:0]`, `:${c.iso2} - [0:0]`];
    if (!this.#initialised) {
      // First sync of this process: drop whatever jumps an earlier run left, then hook the chains in once.
      const names = new Set(Object.values(c));
      const [savedNat, savedFilter] = await Promise.all([this.#run.save("nat"), this.#run.save("filter")]);
      nat.push(...staleJumps(savedNat, names));
      filter.push(...staleJumps(savedFilter, names));
      for (const j of jumps(this.#tag, this.#family))
        (j.table === "nat" ? nat : filter).push(`-I ${j.chain} ${j.rule}`);
    }
    const nets = [...this.#networks.values()];
    for (const n of nets) nat.push(`-A ${c.dnat} -i ${n.bridge} -j RETURN`);
    for (const ports of this.#ports.values()) {
      for (const p of ports) {
        if (p.hostIp.startsWith("127.") || p.hostIp === "::1") continue; // loopback is the proxy's
        if (p.hostIp.includes(":") !== v6 && p.hostIp !== "") continue;
        const any = !p.hostIp || p.hostIp === "0.0.0.0" || p.hostIp === "::";
        const dst = any ? "" : `-d ${p.hostIp}/${v6 ? 128 : 32} `;
        const to = v6 ? `[${p.containerIp}]:${p.containerPort}` : `${p.containerIp}:${p.containerPort}`;
        nat.push(
          `-A ${c.dnat} ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${to}`,
        );
      }
    }
    for (const n of nets) {
      if (!n.internal) nat.push(`-A ${c.post} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
    }
    filter.push(`-A ${c.fwd} -j ${c.iso}`);
    for (const n of nets) {
      if (n.internal) {
        filter.push(`-A ${c.iso} -i ${n.bridge} ! -o ${n.bridge} -j DROP`);
        filter.push(`-A ${c.iso} ! -i ${n.bridge} -o ${n.bridge} -j DROP`);
      } else {
        filter.push(`-A ${c.iso} -i ${n.bridge} ! -o ${n.bridge} -j ${c.iso2}`);
        filter.push(`-A ${c.iso2} -o ${n.bridge} -j DROP`);
      }
    }
    for (const n of nets) {
      const b = n.bridge;
      filter.push(`-A ${c.fwd} -o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      if (n.internal) {
        filter.push(`-A ${c.fwd} -i ${b} -o ${b} -j ACCEPT`);
      } else {
        filter.push(`-A ${c.fwd} -o ${b} -m conntrack --ctstate DNAT -j ACCEPT`);
        filter.push(`-A ${c.fwd} -i ${b} -j ACCEPT`);
      }
      filter.push(`-A ${c.fwd} -o ${b} -j DROP`);
    }
    nat.push("COMMIT");
    filter.push("COMMIT");
    await this.#run.restore(`${[...nat, ...filter].join("\n")}\n`);
    this.#initialised = true;
  }
}
