/**
 * The embedded DNS server of user-defined networks. It listens on each network's gateway address; who asks is
 * known from the source address, so the answer covers exactly the networks the asking container is on.
 * Names it does not know are forwarded to the upstream servers the lookup callback names (the container's
 * --dns, else the host's resolvers).
 */
import { createSocket, type Socket } from "node:dgram";
import { log } from "../util/index.ts";
import { parseIp6 } from "./ip6.ts";

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;

/** What the server asks its owner for each query. */
export type DnsLookup = (q: {
  source: string;
  name: string;
  type: number;
}) => { addresses: string[] } | { forward: string[] } | { refuse: true };

/** One parsed question. */
interface Question {
  name: string;
  type: number;
  cls: number;
  /** Offset just past the question, where answers start. */
  end: number;
}

function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(off + 1, off + 1 + len).toString("latin1"));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return {
    name: labels.join(".").toLowerCase(),
    type: msg.readUInt16BE(off),
    cls: msg.readUInt16BE(off + 2),
    end: off + 4,
  };
}

/** A reply to `query` with the given A or AAAA records (by the address's family; none: NODATA) or an error code. */
export function buildReply(
  query: Buffer,
  q: Question,
  opts: { addresses?: string[]; rcode?: number },
): Buffer {
  const head = Buffer.from(query.subarray(0, q.end));
  const rd = head[2] & 0x01;
  head[2] = 0x80 | (head[2] & 0x78) | 0x04 | rd; // QR, opcode kept, AA, RD echoed
  head[3] = 0x80 | ((opts.rcode ?? 0) & 0x0f); // RA
  const answers = (opts.rcode ? [] : (opts.addresses ?? [])).map((ip) => {
    const v6 = ip.includes(":");
    const rr = Buffer.alloc(v6 ? 28 : 16);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(v6 ? TYPE_AAAA : TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(600, 6);
    rr.writeUInt16BE(v6 ? 16 : 4, 10);
    if (v6) {
      const v = parseIp6(ip) ?? 0n;
      rr.writeBigUInt64BE(v >> 64n, 12);
      rr.writeBigUInt64BE(v & 0xffffffffffffffffn, 20);
    } else
      ip.split(".").forEach((p, i) => {
        rr[12 + i] = Number(p);
      });
    return rr;
  });
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  return Buffer.concat([head, ...answers]);
}

/** One listening socket per address, sharing one lookup and one forwarder. */
export class DnsServer {
  readonly #lookup: DnsLookup;
  readonly #sockets = new Map<string, Socket>();
  readonly #forwarder: Socket;
  readonly #pending = new Map<number, { reply: (m: Buffer) => void; timer: NodeJS.Timeout }>();
  #nextId = Math.floor(Math.random() * 0xffff);

  constructor(lookup: DnsLookup) {
    this.#lookup = lookup;
    this.#forwarder = createSocket("udp4");
    this.#forwarder.on("message", (m) => {
      if (m.length < 2) return;
      const p = this.#pending.get(m.readUInt16BE(0));
      if (!p) return;
      clearTimeout(p.timer);
      this.#pending.delete(m.readUInt16BE(0));
      p.reply(m);
    });
    this.#forwarder.on("error", (e) => log("warn", "dns forwarder error", { err: e }));
    this.#forwarder.bind(0);
    this.#forwarder.unref();
  }

  /** Starts answering on address:53 (a network's gateway). */
  async listen(address: string): Promise<void> {
    if (this.#sockets.has(address)) return;
    const sock = createSocket({ type: "udp4", reuseAddr: true });
    sock.on("message", (msg, rinfo) =>
      this.#handle(msg, rinfo.address, (r) => sock.send(r, rinfo.port, rinfo.address)),
    );
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind({ address, port: 53 }, () => {
        sock.removeListener("error", reject);
        sock.on("error", (e) => log("warn", "dns socket error", { address, err: e }));
        resolve();
      });
    });
    this.#sockets.set(address, sock);
  }

  /** Stops answering on an address. */
  unlisten(address: string): void {
    const s = this.#sockets.get(address);
    if (!s) return;
    this.#sockets.delete(address);
    s.close();
  }

  /** Closes every socket. */
  close(): void {
    for (const a of [...this.#sockets.keys()]) this.unlisten(a);
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#forwarder.close();
  }

  #handle(msg: Buffer, source: string, reply: (m: Buffer) => void): void {
    const q = parseQuestion(msg);
    if (!q || msg[2] & 0x80) return;
    if (q.cls !== CLASS_IN) {
      reply(buildReply(msg, q, { rcode: 4 }));
      return;
    }
    const name = q.name.replace(/\.$/, "");
    const r = this.#lookup({ source, name, type: q.type });
    if ("refuse" in r) {
      reply(buildReply(msg, q, { rcode: 5 }));
      return;
    }
    if ("addresses" in r) {
      // A known name: its records of the asked family, or NODATA (not NXDOMAIN) when it has none, as dockerd.
      const family = (ip: string) => (ip.includes(":") ? TYPE_AAAA : TYPE_A);
      reply(buildReply(msg, q, { addresses: r.addresses.filter((ip) => family(ip) === q.type) }));
      return;
    }
    if (!r.forward.length) {
      reply(buildReply(msg, q, { rcode: 2 }));
      return;
    }
    this.#forward(msg, r.forward, (answer) => {
      if (!answer) {
        reply(buildReply(msg, q, { rcode: 2 }));
        return;
      }
      const out = Buffer.from(answer);
      msg.copy(out, 0, 0, 2); // the client's id back
      reply(out);
    });
  }

  /** Sends the query to each upstream in turn (2 s each) until one answers. */
  #forward(msg: Buffer, upstreams: string[], done: (answer: Buffer | undefined) => void, i = 0): void {
    if (i >= upstreams.length) {
      done(undefined);
      return;
    }
    const id = this.#nextId++ & 0xffff;
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#forward(msg, upstreams, done, i + 1);
    }, 2000);
    this.#pending.set(id, { reply: (m) => done(m), timer });
    this.#forwarder.send(out, 53, upstreams[i], (e) => {
      if (!e) return;
      clearTimeout(timer);
      this.#pending.delete(id);
      this.#forward(msg, upstreams, done, i + 1);
    });
  }
}
