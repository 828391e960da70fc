/** IPv4 address arithmetic and allocation: subnets, pools, next free address. */

/** A parsed IPv4 CIDR. */
export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefixLen: number;
}

/** "a.b.c.d" → number; undefined when malformed. */
export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** number → "a.b.c.d" */
export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (~0 << (32 - prefixLen)) >>> 0;
}

/** "10.1.0.0/16" → Cidr (host bits cleared); `address` keeps the address as given (for --bip 10.1.0.1/16). */
export function parseCidr(s: string): (Cidr & { address: number }) | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const addr = parseIp(m[1]);
  const prefixLen = Number(m[2]);
  if (addr === undefined || prefixLen > 32) return undefined;
  return { base: (addr & mask(prefixLen)) >>> 0, prefixLen, address: addr };
}

/** "10.1.0.0/16" */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefixLen}`;
}

/** Whether `ip` lies in `c`. */
export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.prefixLen)) >>> 0 === c.base;
}

/** Whether two subnets share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefixLen, b.prefixLen);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** The first host address of a subnet (Docker's default gateway). */
export function firstHost(c: Cidr): number {
  return c.prefixLen >= 31 ? c.base : c.base + 1;
}

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 cut in /20s. */
export function* defaultPools(): Generator<Cidr> {
  for (let i = 17; i <= 31; i++) yield { base: parseIp(`172.${i}.0.0`) as number, prefixLen: 16 };
  for (let i = 0; i < 256; i += 16) yield { base: parseIp(`192.168.${i}.0`) as number, prefixLen: 20 };
}

/** The first pool subnet that overlaps none of `taken` (host routes and existing networks). */
export function pickSubnet(taken: Cidr[]): Cidr | undefined {
  for (const c of defaultPools()) {
    if (!taken.some((t) => t.prefixLen > 0 && overlaps(c, t))) return c;
  }
  return undefined;
}

/**
 * The next free address of `range` (inside `subnet`), skipping the network and broadcast addresses and
 * anything in `used`. Starts after `from` and wraps, as Docker's allocator does, so a released address is not
 * handed out again at once.
 */
export function nextFree(opts: {
  subnet: Cidr;
  range?: Cidr;
  /** Taken addresses: a set, or any view that answers membership (the gateway plus a network's allocations). */
  used: Pick<ReadonlySet<number>, "has">;
  from?: number;
}): number | undefined {
  const r = opts.range ?? opts.subnet;
  const size = 2 ** (32 - r.prefixLen);
  const network = opts.subnet.base;
  const broadcast = (opts.subnet.base + 2 ** (32 - opts.subnet.prefixLen) - 1) >>> 0;
  const start = opts.from !== undefined && contains(r, opts.from) ? opts.from - r.base + 1 : 0;
  for (let i = 0; i < size; i++) {
    const ip = (r.base + ((start + i) % size)) >>> 0;
    if (opts.subnet.prefixLen < 31 && (ip === network || ip === broadcast)) continue;
    if (!opts.used.has(ip)) return ip;
  }
  return undefined;
}

/** Docker's MAC for an address: 02:42 then the four address bytes. */
export function macFor(ip: number): string {
  const b = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}
