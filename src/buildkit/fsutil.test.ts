import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeStat, type FsStat, receiveFiles } from "./fsutil.ts";
import { ProtoReader, ProtoWriter } from "./proto.ts";

const pkt = (type: number, o: { id?: number; data?: Buffer; stat?: FsStat } = {}) =>
  new ProtoWriter()
    .int(1, type)
    .message(2, o.stat ? encodeStat(o.stat) : undefined)
    .int(3, o.id)
    .bytes(4, o.data)
    .finish();

/** A sender like fsutil's: several readers at once, so DATA packets of different files interleave. */
function interleavingSender(files: Record<string, string>) {
  const names = Object.keys(files);
  const toReceiver: Buffer[] = [];
  let wake: (() => void) | undefined;
  const push = (b: Buffer) => {
    toReceiver.push(b);
    wake?.();
  };
  for (const name of names)
    push(
      pkt(0, {
        stat: {
          path: name,
          mode: 0o644,
          uid: 0,
          gid: 0,
          size: files[name].length,
          modTime: 0n,
          linkname: "",
          devmajor: 0,
          devminor: 0,
        },
      }),
    );
  push(pkt(0));
  const requested: number[] = [];
  let maxAhead = 0;
  const flush = () => {
    maxAhead = Math.max(maxAhead, requested.length);
    // Answer all open requests a byte at a time, round robin.
    const open = requested.splice(0).map((id) => ({ id, rest: Buffer.from(files[names[id]]) }));
    while (open.length) {
      const f = open.shift()!;
      if (f.rest.length) {
        push(pkt(2, { id: f.id, data: f.rest.subarray(0, 1) }));
        f.rest = f.rest.subarray(1);
        open.push(f);
      } else push(pkt(2, { id: f.id }));
    }
  };
  return {
    maxAhead: () => maxAhead,
    stream: {
      async send(msg: Buffer) {
        const r = new ProtoReader(msg);
        if (r.int(1) === 1) {
          requested.push(r.int(3));
          setImmediate(flush);
        } else if (r.int(1) === 3) push(pkt(3));
      },
      async *messages() {
        for (;;) {
          const b = toReceiver.shift();
          if (b) {
            yield b;
            continue;
          }
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      },
    },
  };
}

test("the receiver asks for several files ahead and sorts their interleaved DATA packets out", async () => {
  const files = { a: "first file", b: "second", c: "", d: "the fourth one" };
  const s = interleavingSender(files);
  const got = await receiveFiles(s.stream);
  assert.deepEqual(Object.fromEntries([...got].map(([k, v]) => [k, v.toString()])), files);
  assert.ok(s.maxAhead() > 1, `requests went one at a time (${s.maxAhead()})`);
});
