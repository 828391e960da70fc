import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import { DnsServer } from "./dns.ts";

function query(name: string, type = 1): Buffer {
  const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

function ask(addr: string, msg: Buffer): Promise<Buffer> {
  const s = createSocket("udp4");
  return new Promise((resolve, reject) => {
    s.on("message", (m) => {
      s.close();
      resolve(m);
    });
    s.on("error", reject);
    s.send(msg, 53, addr);
  });
}

test("answers known names with A records, NODATA for AAAA, refuses strangers, forwards the rest", async () => {
  const upstream = createSocket("udp4");
  upstream.on("message", (m, r) => {
    const out = Buffer.from(m);
    out[2] |= 0x80;
    out[3] = 0x83; // NXDOMAIN from the "upstream"
    upstream.send(out, r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(53, "127.0.0.156", r));
  const dns = new DnsServer(({ source, name }) => {
    if (source !== "127.0.0.1") return { refuse: true };
    if (name === "web") return { addresses: ["10.0.0.2", "10.0.0.3"] };
    return { forward: ["127.0.0.156"] };
  });
  await dns.listen("127.0.0.155");
  try {
    const a = await ask("127.0.0.155", query("web"));
    assert.equal(a.readUInt16BE(0), 0x1234);
    assert.equal(a[3] & 0x0f, 0);
    assert.equal(a.readUInt16BE(6), 2);
    assert.deepEqual([...a.subarray(a.length - 4)], [10, 0, 0, 3]);
    const aaaa = await ask("127.0.0.155", query("web", 28));
    assert.equal(aaaa.readUInt16BE(6), 0);
    assert.equal(aaaa[3] & 0x0f, 0);
    const fwd = await ask("127.0.0.155", query("elsewhere.example"));
    assert.equal(fwd.readUInt16BE(0), 0x1234, "the client's id comes back");
    assert.equal(fwd[3] & 0x0f, 3);
  } finally {
    dns.close();
    upstream.close();
  }
});

test("AAAA queries get a name's IPv6 addresses; a name with IPv4 alone gets NODATA, not NXDOMAIN", async () => {
  const dns = new DnsServer(({ name }) => {
    if (name === "six") return { addresses: ["10.0.0.2", "fd5a:1b2c:3d4f::2"] };
    if (name === "four") return { addresses: ["10.0.0.3"] };
    return { forward: [] };
  });
  await dns.listen("127.0.0.157");
  try {
    const aaaa = await ask("127.0.0.157", query("six", 28));
    assert.equal(aaaa[3] & 0x0f, 0);
    assert.equal(aaaa.readUInt16BE(6), 1);
    assert.equal(aaaa.readUInt16BE(aaaa.length - 26), 28, "the record is an AAAA");
    assert.equal(aaaa.subarray(aaaa.length - 16).toString("hex"), "fd5a1b2c3d4f00000000000000000002");
    const a = await ask("127.0.0.157", query("six"));
    assert.equal(a.readUInt16BE(6), 1);
    assert.deepEqual([...a.subarray(a.length - 4)], [10, 0, 0, 2]);
    const nodata = await ask("127.0.0.157", query("four", 28));
    assert.equal(nodata[3] & 0x0f, 0, "NOERROR");
    assert.equal(nodata.readUInt16BE(6), 0, "no answers");
  } finally {
    dns.close();
  }
});
