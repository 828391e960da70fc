import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LogLine, parseLogLine, type ReadLogOptions, readLog } from "./logfile.ts";

const t = (i: number): string => `2024-01-02T03:04:05.${String(i).padStart(9, "0")}+00:00`;
const ns = (i: number): bigint => BigInt(Date.parse("2024-01-02T03:04:05Z")) * 1_000_000n + BigInt(i);

async function collect(path: string, opts?: ReadLogOptions): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of readLog(path, opts)) out.push(l);
  return out;
}
const texts = (ls: LogLine[]): string[] =>
  ls.map((l) => `${l.stream}:${l.line.toString()}${l.partial ? "…" : ""}`);

describe("parseLogLine", () => {
  it("parses time, stream, tag and text with spaces", () => {
    const e = parseLogLine(Buffer.from(`${t(5)} stderr F a b  c`));
    assert.equal(e?.stream, "stderr");
    assert.equal(e?.partial, false);
    assert.equal(e?.timeNs, ns(5));
    assert.equal(e?.text.toString(), "a b  c");
    assert.equal(parseLogLine(Buffer.from(`${t(5)} stdout F `))?.text.length, 0);
    assert.equal(parseLogLine(Buffer.from("garbage")), undefined);
  });
});

describe("readLog", () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wharf-log-"));
    file = join(dir, "log");
    const lines = [
      `${t(1)} stdout F one`,
      `${t(2)} stderr F two`,
      `${t(3)} stdout P thr`,
      `${t(4)} stderr F four`,
      `${t(5)} stdout F ee`,
      `${t(6)} stdout F five`,
      `${t(7)} stderr P tail`,
    ];
    await writeFile(file, `${lines.join("\n")}\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("reads all lines, joining P pieces and flushing a trailing one as partial", async () => {
    const ls = await collect(file);
    assert.deepEqual(texts(ls), [
      "stdout:one",
      "stderr:two",
      "stderr:four",
      "stdout:three",
      "stdout:five",
      "stderr:tail…",
    ]);
    assert.equal(ls[3]?.time, "2024-01-02T03:04:05.000000003Z");
  });

  it("filters by since and until", async () => {
    assert.deepEqual(texts(await collect(file, { since: ns(2), until: ns(4) })), [
      "stderr:two",
      "stderr:four",
      "stdout:three",
    ]);
    assert.deepEqual(texts(await collect(file, { until: ns(1) })), ["stdout:one"]);
  });

  it("tails from the end, keeping joined lines whole", async () => {
    assert.deepEqual(texts(await collect(file, { tail: 1 })), ["stderr:tail…"]);
    assert.deepEqual(texts(await collect(file, { tail: 2 })), ["stdout:five", "stderr:tail…"]);
    assert.deepEqual(texts(await collect(file, { tail: 3 })), [
      "stdout:three",
      "stdout:five",
      "stderr:tail…",
    ]);
    assert.equal((await collect(file, { tail: 100 })).length, 6);
    assert.equal((await collect(file, { tail: 0 })).length, 0);
  });

  it("tails a file bigger than one read chunk", async () => {
    const big = join(dir, "big");
    const n = 20000;
    let s = "";
    for (let i = 0; i < n; i++) s += `${t(i)} stdout F line ${i}\n`;
    await writeFile(big, s);
    const ls = await collect(big, { tail: 5000 });
    assert.equal(ls.length, 5000);
    assert.equal(ls[0]?.line.toString(), `line ${n - 5000}`);
    assert.equal(ls.at(-1)?.line.toString(), `line ${n - 1}`);
  });

  it("follows a growing file until the promise settles", async () => {
    const f = join(dir, "follow");
    await writeFile(f, `${t(1)} stdout F a\n`);
    let stop!: () => void;
    const done = new Promise<void>((r) => {
      stop = r;
    });
    const got: string[] = [];
    const reader = (async () => {
      for await (const l of readLog(f, { follow: done, tail: 0 })) got.push(l.line.toString());
    })();
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(f, `${t(2)} stdout P b`);
    await new Promise((r) => setTimeout(r, 30));
    await appendFile(f, `1\n${t(3)} stdout F b2\n`);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ["b1b2"]);
    await appendFile(f, `${t(4)} stderr F c\n`);
    stop();
    await reader;
    assert.deepEqual(got, ["b1b2", "c"]);
  });

  it("yields nothing for a missing file", async () => {
    assert.deepEqual(await collect(join(dir, "missing")), []);
  });
});
