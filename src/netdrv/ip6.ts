/** IPv6 address arithmetic: 128-bit addresses as bigints, subnets, the next free address, MAC-derived addresses. */

/** A parsed IPv6 CIDR. */
export interface Cidr6 {
  /** Network address (host bits cleared). */
  base: bigint;
  prefixLen: number;
}

const ALL = (1n << 128n) - 1n;

/** "fd00::1" (also with an embedded IPv4 tail, "::ffff:1.2.3.4") → bigint; undefined when malformed. */
export function parseIp6(s: string): bigint | undefined {
  if (!s.includes(":") || s.includes("%") || /[^0-9a-fA-F:.]/.test(s)) return undefined;
  let text = s;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(2).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    tail = [(parts[0] << 8) | parts[1], (parts[2] << 8) | parts[3]];
    text = v4[1].endsWith("::") ? v4[1] : v4[1].slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const words: number[] = [];
  for (const g of [...head, ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
  }
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  words.push(...head.map((g) => Number.parseInt(g, 16)));
  if (halves.length === 2) for (let i = given; i < 8; i++) words.push(0);
  words.push(...rest.map((g) => Number.parseInt(g, 16)), ...tail);
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

/** bigint → the RFC 5952 text Go prints ("fd00::1", the longest run of two or more zero groups as "::"). */
export function formatIp6(v: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function mask6(prefixLen: number): bigint {
  return prefixLen === 0 ? 0n : (ALL << BigInt(128 - prefixLen)) & ALL;
}

/** "fd00::/64" → Cidr6; `address` keeps the address as given. */
export function parseCidr6(s: string): (Cidr6 & { address: bigint }) | undefined {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const address = parseIp6(m[1]);
  const prefixLen = Number(m[2]);
  if (address === undefined || prefixLen > 128) return undefined;
  return { base: address & mask6(prefixLen), prefixLen, address };
}

/** "fd00::/64" */
export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.base)}/${c.prefixLen}`;
}

/** Whether `ip` lies in `c`. */
export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.prefixLen)) === c.base;
}

/** Whether two subnets share any address. */
export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const m = mask6(Math.min(a.prefixLen, b.prefixLen));
  return (a.base & m) === (b.base & m);
}

/** The first address after the network's (libnetwork's default gateway). */
export function firstHost6(c: Cidr6): bigint {
  return c.prefixLen >= 127 ? c.base : c.base + 1n;
}

/**
 * The next free address of `range` (inside `subnet`) after `from`, wrapping, skipping the subnet's own
 * address (IPv6 has no broadcast) and anything `used` holds. Ranges larger than 2^64 are searched from their
 * start only up to a bound, as no network holds that many endpoints.
 */
export function nextFree6(opts: {
  subnet: Cidr6;
  range?: Cidr6;
  used: { has(ip: bigint): boolean };
  from?: bigint;
}): bigint | undefined {
  const r = opts.range ?? opts.subnet;
  const size = 1n << BigInt(128 - r.prefixLen);
  const start = opts.from !== undefined && contains6(r, opts.from) ? opts.from - r.base + 1n : 0n;
  const limit = size < 1_000_000n ? size : 1_000_000n;
  for (let i = 0n; i < limit; i++) {
    const ip = r.base + ((start + i) % size);
    if (ip === opts.subnet.base && opts.subnet.prefixLen < 127) continue;
    if (!opts.used.has(ip)) return ip;
  }
  return undefined;
}

/**
 * The address libnetwork's bridge driver builds from a MAC on a subnet of at most /80 (the default bridge
 * with --fixed-cidr-v6): the subnet's prefix with the six MAC bytes as the last 48 bits.
 */
export function macAddress6(subnet: Cidr6, mac: string): bigint {
  let low = 0n;
  for (const b of mac.split(":")) low = (low << 8n) | BigInt(Number.parseInt(b, 16));
  return subnet.base | low;
}
