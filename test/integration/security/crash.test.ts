// biome-ignore-all lint/suspicious/noExplicitAny: tests read Docker's JSON documents field by field
/**
 * Crashes lose nothing (issue 11): the daemon is SIGKILLed at a random point during a pull, a build, a
 * create, a start, a forced rm and a volume removal. After each restart nothing is half-present: every
 * image listed runs, every container listed can be inspected, started and removed, every volume listed
 * keeps its data, a name or tag the crash did not keep is free again, and a container that was running
 * before the crashes keeps running and answers exec. At the end a prune leaves nothing in the data root.
 *
 * Bounded and replayable: WHARF_CRASH_RUNS kills per operation (default 3) at points drawn from
 * WHARF_CRASH_SEED across the operation's own duration, measured first by one run without a kill.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { startWharfRegistry, type TestRegistry } from "../distribution/registries.ts";

const run = promisify(execFile);
const SEED = Number(process.env.WHARF_CRASH_SEED ?? 20261203);
const RUNS = Number(process.env.WHARF_CRASH_RUNS ?? 3);

let d: TestDaemon;
let reg: TestRegistry;
let keeper: { id: string; pid: number };
let contextTar: Buffer;
let work: string;

/** A small seeded PRNG (mulberry32), so a failing kill point replays from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

/** One API call whose outcome does not matter: the daemon may die under it. Resolves with the status. */
function fire(method: string, path: string, body?: Buffer | object, type = "application/json") {
  return new Promise<number>((resolve) => {
    const data =
      body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: d.socket,
        method,
        path,
        headers: data ? { "Content-Type": type, "Content-Length": data.length } : {},
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(-1));
      },
    );
    req.on("error", () => resolve(-1));
    req.end(data);
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await docker(d, args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${d.output().slice(-3000)}`);
  return r.stdout.trim();
}

function lines(s: string): string[] {
  return s.split("\n").filter(Boolean);
}

/** What must hold after every restart, whatever was interrupted. */
async function consistent(context: string): Promise<void> {
  const k = await api<any>(d, "GET", `/containers/${keeper.id}/json`);
  assert.equal(k.State.Running, true, `${context}: the keeper stopped running`);
  assert.equal(k.State.Pid, keeper.pid, `${context}: the keeper's pid changed`);
  await ok(["exec", keeper.id, "true"]);
  for (const id of lines(await ok(["ps", "-aq", "--no-trunc"])))
    await ok(["inspect", "--type", "container", id]);
  for (const id of lines(await ok(["images", "-aq", "--no-trunc"]))) {
    await ok(["image", "inspect", id]);
    await ok(["history", "-q", id]);
  }
  for (const v of lines(await ok(["volume", "ls", "-q"]))) await ok(["volume", "inspect", v]);
}

async function refs(repo: string): Promise<string[]> {
  return lines(await ok(["images", "--format", "{{.Repository}}:{{.Tag}}", repo]));
}

/** How one operation is prepared, started (its request in flight when the kill comes) and judged after. */
interface CrashCase {
  name: string;
  prepare(i: number): Promise<void>;
  start(i: number): Promise<number>;
  /** After the restart: the operation's object is absent or whole; leaves the daemon ready for the next run. */
  judge(i: number): Promise<void>;
}

const PULL = () => `${reg.host}/crash/pull:v1`;

const cases: CrashCase[] = [
  {
    name: "pull",
    async prepare() {
      await docker(d, ["rmi", "-f", PULL()]);
    },
    start: () =>
      fire("POST", `/images/create?fromImage=${encodeURIComponent(`${reg.host}/crash/pull`)}&tag=v1`),
    async judge() {
      if ((await refs(`${reg.host}/crash/pull`)).length > 0)
        assert.equal(await ok(["run", "--rm", PULL(), "sh", "-c", "cat /l1 /l2 /l3 | wc -c"]), "3145728");
      // Whatever the crash left of blobs and layers, the next pull completes and the image runs.
      await ok(["pull", "-q", PULL()]);
      assert.equal(await ok(["run", "--rm", PULL(), "sh", "-c", "cat /l1 /l2 /l3 | wc -c"]), "3145728");
    },
  },
  {
    name: "build",
    async prepare() {},
    start: (i) => fire("POST", `/build?t=crash/build:${i}&nocache=1&rm=1`, contextTar, "application/x-tar"),
    async judge(i) {
      if ((await refs(`crash/build:${i}`)).length > 0)
        assert.equal(
          await ok(["run", "--rm", `crash/build:${i}`, "sh", "-c", "cat /one /two; wc -c </big"]),
          "1\n2\n1048576",
        );
      await docker(d, ["rmi", "-f", `crash/build:${i}`]);
    },
  },
  {
    name: "create",
    async prepare() {},
    start: (i) =>
      fire("POST", `/containers/create?name=crash-create-${i}`, { Image: "busybox", Cmd: ["sleep", "300"] }),
    async judge(i) {
      const name = `crash-create-${i}`;
      if (lines(await ok(["ps", "-aq", "--filter", `name=^${name}$`])).length > 0) {
        await ok(["start", name]);
        await ok(["exec", name, "true"]);
        await ok(["rm", "-f", name]);
      }
      // A name the crash did not keep is free again.
      await ok(["create", "--name", name, "busybox", "true"]);
      await ok(["rm", name]);
    },
  },
  {
    name: "start",
    async prepare(i) {
      await ok(["create", "--name", `crash-start-${i}`, "busybox", "sleep", "300"]);
    },
    start: (i) => fire("POST", `/containers/crash-start-${i}/start`),
    async judge(i) {
      const name = `crash-start-${i}`;
      const c = await api<any>(d, "GET", `/containers/${name}/json`);
      if (!c.State.Running) await ok(["start", name]);
      await ok(["exec", name, "true"]);
      await ok(["stop", "-t", "0", name]);
      await ok(["start", name]);
      await ok(["rm", "-f", name]);
    },
  },
  {
    name: "rm",
    async prepare(i) {
      await ok(["run", "-d", "--name", `crash-rm-${i}`, "busybox", "sleep", "300"]);
    },
    start: (i) => fire("DELETE", `/containers/crash-rm-${i}?force=1`),
    async judge(i) {
      const name = `crash-rm-${i}`;
      if (lines(await ok(["ps", "-aq", "--filter", `name=^${name}$`])).length > 0)
        await ok(["rm", "-f", name]);
      await ok(["create", "--name", name, "busybox", "true"]);
      await ok(["rm", name]);
    },
  },
  {
    name: "volume rm",
    async prepare(i) {
      await ok(["volume", "create", `crash-vol-${i}`]);
      await ok(["run", "--rm", "-v", `crash-vol-${i}:/v`, "busybox", "sh", "-c", "echo kept > /v/f"]);
    },
    start: (i) => fire("DELETE", `/volumes/crash-vol-${i}`),
    async judge(i) {
      const name = `crash-vol-${i}`;
      if (lines(await ok(["volume", "ls", "-q"])).includes(name)) {
        assert.equal(await ok(["run", "--rm", "-v", `${name}:/v`, "busybox", "cat", "/v/f"]), "kept");
        await ok(["volume", "rm", name]);
      }
      // A volume the crash removed does not come back with its old files.
      await ok(["volume", "create", name]);
      assert.equal(await ok(["run", "--rm", "-v", `${name}:/v`, "busybox", "ls", "-A", "/v"]), "");
      await ok(["volume", "rm", name]);
    },
  },
];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "wt-crash-"));
  d = await startDaemon({ name: "crash" });
  reg = await startWharfRegistry();
  await importBusybox(d);
  // A three-layer image of 1 MiB layers in the registry, pulled under the kills.
  const src = join(work, "pull");
  await run("mkdir", ["-p", src]);
  await writeFile(
    join(src, "Dockerfile"),
    `FROM busybox\n${[1, 2, 3].map((n) => `RUN head -c 1048576 /dev/urandom > /l${n}\n`).join("")}`,
  );
  const b = await docker(d, ["build", "-q", "-t", PULL(), src], { timeoutMs: 120_000 });
  assert.equal(b.code, 0, b.stderr);
  await ok(["push", PULL()]);
  await ok(["rmi", PULL()]);
  const ctx = join(work, "ctx");
  await run("mkdir", ["-p", ctx]);
  await writeFile(
    join(ctx, "Dockerfile"),
    "FROM busybox\nRUN echo 1 > /one\nCOPY two /two\nRUN head -c 1048576 /dev/urandom > /big\n",
  );
  await writeFile(join(ctx, "two"), "2\n");
  contextTar = (await run("tar", ["-C", ctx, "-cf", "-", "."], { encoding: "buffer" })).stdout;
  const id = await ok([
    "run",
    "-d",
    "--name",
    "keeper",
    "busybox",
    "sh",
    "-c",
    "while :; do sleep 0.2; done",
  ]);
  keeper = { id, pid: (await api<any>(d, "GET", `/containers/${id}/json`)).State.Pid };
});

after(async () => {
  await d?.stop();
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("SIGKILL of the daemon at random points", () => {
  for (const c of cases) {
    test(`during ${c.name}: nothing half-present after the restart`, async () => {
      // Run 0 has no kill and measures how long the operation takes, so the kills land inside it.
      await c.prepare(0);
      const t0 = performance.now();
      const status = await c.start(0);
      const took = performance.now() - t0;
      assert.ok(status >= 200 && status < 300, `${c.name} without a kill answered ${status}`);
      await c.judge(0);
      for (let i = 1; i <= RUNS; i++) {
        await c.prepare(i);
        const delay = Math.floor(random() * took);
        const inflight = c.start(i);
        await new Promise((r) => setTimeout(r, delay));
        await d.restart();
        await inflight;
        const where = `${c.name} run ${i} (kill after ${delay} of ${Math.round(took)} ms, seed ${SEED})`;
        await consistent(where);
        await c.judge(i).catch((e: Error) => {
          throw new Error(`${where}: ${e.message}`);
        });
      }
    });
  }

  test("after the crashes, removing everything and a prune leave the data root empty", async () => {
    await ok(["rm", "-f", keeper.id]);
    const left = lines(await ok(["ps", "-aq"]));
    if (left.length) await ok(["rm", "-f", ...left]);
    await ok(["system", "prune", "-af", "--volumes"]);
    // Since API 1.42 a prune takes named volumes only when asked for all.
    await ok(["volume", "prune", "-af"]);
    // A restart also clears what start-up owns (temp files of interrupted writes).
    await d.restart({ kill: false });
    const images = lines(await ok(["images", "-aq"]));
    if (images.length)
      assert.fail(
        `images left after prune: ${await ok(["image", "inspect", ...images])}\n${d.output().slice(-4000)}`,
      );
    assert.deepEqual(lines(await ok(["volume", "ls", "-q"])), []);
    const leftovers: string[] = [];
    for (const dir of ["containers", "volumes", "content/blobs/sha256", "images/records", "tmp"]) {
      for (const f of await readdir(join(d.dataRoot, dir)).catch(() => [] as string[]))
        leftovers.push(`${dir}/${f}`);
    }
    for (const f of await readdir(join(d.dataRoot, "layers")))
      if (f !== "empty" && f !== "l") leftovers.push(`layers/${f}`);
    for (const f of await readdir(join(d.dataRoot, "layers/l")).catch(() => [] as string[]))
      leftovers.push(`layers/l/${f}`);
    const cache = JSON.parse(await readFile(join(d.dataRoot, "build/cache.json"), "utf8").catch(() => "{}"));
    for (const [k, v] of Object.entries(cache))
      if (typeof v === "object" && v && Object.keys(v).length) leftovers.push(`build/cache.json: ${k}`);
    assert.deepEqual(leftovers, [], "prune left these behind");
  });
});
