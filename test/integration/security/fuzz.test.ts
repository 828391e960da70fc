/**
 * A bounded property suite against a real daemon: random and mutated JSON bodies for the main POST routes
 * and random query parameters for build and image create must answer below 500 (client errors are never
 * the daemon's fault), within a deadline, with the daemon alive afterwards; random tar streams into image
 * import must never write outside the layer. Seed from WHARF_FUZZ_SEED (default fixed), runs from
 * WHARF_FUZZ_RUNS, so a failure replays exactly.
 *
 * The generators never produce a valid subnet or a bridge-name option: a random network must not take an
 * address range or an interface the host uses.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { pack } from "tar-stream";
import { api, importBusybox, startDaemon, type TestDaemon, timedRequest } from "../../helpers/daemon.ts";

const SEED = Number(process.env.WHARF_FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.WHARF_FUZZ_RUNS ?? 150);
const DEADLINE_MS = 15_000;

let d: TestDaemon;
let outside: string;
let running: string;
before(async () => {
  outside = await mkdtemp(join(tmpdir(), "wt-fuzz-out-"));
  d = await startDaemon({ name: "fuzz" });
  await importBusybox(d);
  running = (
    await api<{ Id: string }>(d, "POST", "/containers/create", { Image: "busybox", Cmd: ["sleep", "300"] })
  ).Id;
  await api(d, "POST", `/containers/${running}/start`);
});
after(async () => {
  await d?.stop();
  await rm(outside, { recursive: true, force: true });
});

/** Sends one request with a raw body; resolves with the status and body, rejects past the deadline. */
function send(method: string, path: string, body?: string | Buffer, contentType = "application/json") {
  const headers: Record<string, string> = body === undefined ? {} : { "Content-Type": contentType };
  return timedRequest(d, { method, path, body, headers }, DEADLINE_MS);
}

/**
 * The 5xx answers that are Docker's too and no client error: a registry that cannot be reached (dockerd
 * answers 500 "dial tcp ...: connection refused"; wharf 503).
 */
const DOCKERS_5XX = /connect ECONNREFUSED 127\.0\.0\.1:1\b/;

async function assertClientError(method: string, path: string, body?: string | Buffer, ct?: string) {
  const r = await send(method, path, body, ct);
  assert.ok(
    r.status < 500 || DOCKERS_5XX.test(r.text),
    `${method} ${path} answered ${r.status} ${r.text.slice(0, 300)} to ${String(body).slice(0, 500)}`,
  );
  return r;
}

/** A JSON value of any type, small. */
const anyJson = fc.jsonValue({ maxDepth: 2 });
/** Strings that are no CIDR: nothing random may become a real subnet. */
const notCidr = fc.string({ maxLength: 12 }).filter((s) => !s.includes("/"));

/** A template body with some fields replaced by random values and some random fields added. */
function mutated(template: Record<string, unknown>, extra: Record<string, fc.Arbitrary<unknown>> = {}) {
  const keys = Object.keys(template);
  return fc
    .record({
      replace: fc.dictionary(fc.constantFrom(...keys), anyJson, { maxKeys: 3 }),
      extra: fc.record(extra, { requiredKeys: [] }),
      junk: fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 2 }),
    })
    .map(({ replace, extra: x, junk }) => ({ ...junk, ...template, ...replace, ...x }));
}

const createBody = mutated(
  { Image: "busybox", Cmd: ["true"], Env: ["A=1"], Tty: false, HostConfig: {}, Labels: {} },
  {
    HostConfig: fc.record(
      {
        Memory: anyJson,
        CpuShares: anyJson,
        PidsLimit: anyJson,
        Privileged: anyJson,
        RestartPolicy: anyJson,
        PortBindings: anyJson,
        Mounts: anyJson,
        Binds: fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 }),
        NetworkMode: fc.constantFrom("none", "bridge", "host", "container:nope", "nope", 5),
      },
      { requiredKeys: [] },
    ),
  },
);

const networkBody = mutated(
  { Name: "fz", Driver: "bridge", Internal: false, Labels: {} },
  {
    IPAM: fc.oneof(
      anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)),
      fc.record({ Driver: anyJson, Config: fc.array(fc.record({ Subnet: notCidr, Gateway: notCidr })) }),
    ),
    Options: fc.oneof(fc.constant(5), fc.constant([]), fc.dictionary(fc.constant("fuzz.x"), fc.string())),
  },
)
  // A replaced IPAM or Options may be any JSON: keep only the shapes that cannot name a subnet or bridge.
  .map((b) => {
    const ipam = b.IPAM as { Config?: unknown } | undefined;
    if (ipam && typeof ipam === "object" && !Array.isArray(ipam) && Array.isArray(ipam.Config))
      ipam.Config = (ipam.Config as unknown[]).map((c) =>
        c && typeof c === "object" ? { ...c, Subnet: "x", IPRange: undefined } : c,
      );
    const opts = b.Options as Record<string, unknown> | undefined;
    if (opts && typeof opts === "object" && !Array.isArray(opts))
      for (const k of Object.keys(opts)) if (!k.startsWith("fuzz.")) delete opts[k];
    for (const k of Object.keys(b)) if (k.toLowerCase() === "options" && k !== "Options") delete b[k];
    for (const k of Object.keys(b)) if (k.toLowerCase() === "ipam" && k !== "IPAM") delete b[k];
    return b;
  });

const volumeBody = mutated({ Name: "fzv", Driver: "local", DriverOpts: {}, Labels: {} }).map((b) => {
  // local volume options mount things (type=, device=): only refused shapes get through.
  if (b.DriverOpts && typeof b.DriverOpts === "object" && !Array.isArray(b.DriverOpts)) b.DriverOpts = {};
  return b;
});

/** Raw bodies: truncated or garbled JSON as well as values. */
function rawBody(json: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: json.map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: json.chain((v) =>
        fc.nat(JSON.stringify(v).length).map((n) => JSON.stringify(v).slice(0, n)),
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
}

/** Removes what a run created, keeping the daemon's own networks and the long-running container. */
async function cleanUp(): Promise<void> {
  for (const c of await api<{ Id: string }[]>(d, "GET", "/containers/json?all=1"))
    if (c.Id !== running) await api(d, "DELETE", `/containers/${c.Id}?force=1`);
  for (const n of await api<{ Id: string; Name: string }[]>(d, "GET", "/networks"))
    if (!["bridge", "host", "none"].includes(n.Name)) await api(d, "DELETE", `/networks/${n.Id}`);
  for (const v of (await api<{ Volumes: { Name: string }[] | null }>(d, "GET", "/volumes")).Volumes ?? [])
    await api(d, "DELETE", `/volumes/${v.Name}`);
}

const params = { seed: SEED, numRuns: RUNS, endOnFailure: true };

test("random and mutated bodies for create, update, exec, network and volume create are never a 5xx", async () => {
  const route = fc.oneof(
    rawBody(createBody).map((b) => ["/containers/create", b] as const),
    rawBody(mutated({ Memory: 0, CpuShares: 2, RestartPolicy: { Name: "no" } })).map(
      (b) => [`/containers/${running}/update`, b] as const,
    ),
    rawBody(mutated({ Cmd: ["true"], AttachStdout: true, Env: [] })).map(
      (b) => [`/containers/${running}/exec`, b] as const,
    ),
    rawBody(networkBody).map((b) => ["/networks/create", b] as const),
    rawBody(volumeBody).map((b) => ["/volumes/create", b] as const),
  );
  await fc.assert(
    fc.asyncProperty(route, async ([path, body]) => {
      await assertClientError("POST", path, body);
    }),
    params,
  );
  assert.equal(await api(d, "GET", "/_ping"), "OK");
  await cleanUp();
});

test("random build and image-create query parameters are never a 5xx", async () => {
  const value = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("1", "0", "true", "-1", "{}", "[", "%zz"),
  );
  const query = (names: string[]) =>
    fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 4 }).map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join("&"),
    );
  const build = query([
    "t",
    "dockerfile",
    "q",
    "nocache",
    "rm",
    "memory",
    "cpushares",
    "buildargs",
    "labels",
    "shmsize",
    "target",
    "platform",
    "networkmode",
    "version",
  ]);
  // image create: only a source that is no registry name (fromSrc) or a loopback registry with a closed port.
  const create = query(["fromSrc", "repo", "tag", "platform", "changes", "message"]);
  const pull = fc
    .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
    .map(([n, t]) => `fromImage=${encodeURIComponent(`127.0.0.1:1/${n}`)}&tag=${encodeURIComponent(t)}`);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        build.map((q) => ["/build", q, "application/x-tar"] as const),
        create.map((q) => ["/images/create", q, "application/x-tar"] as const),
        pull.map((q) => ["/images/create", q, "application/json"] as const),
      ),
      async ([path, q, ct]) => {
        await assertClientError("POST", `${path}?${q}`, Buffer.alloc(1024), ct);
      },
    ),
    params,
  );
  assert.equal(await api(d, "GET", "/_ping"), "OK");
  await cleanUp();
});

interface TarEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "link";
  linkname?: string;
  data?: string;
}

/** Names and link targets that try to leave the layer, aimed at the `outside` directory. */
function hostileEntry(): fc.Arbitrary<TarEntry> {
  const part = fc.constantFrom("a", "b", "..", ".", "l", "etc", "", "x/..");
  const rel = fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join("/"));
  const name = fc.oneof(
    rel,
    rel.map((r) => `../../../../..${outside}/${r}`),
    rel.map((r) => `${outside}/${r}`),
  );
  const target = fc.oneof(name, fc.constant(outside), fc.constant("/"), fc.constant("../../../.."));
  return fc.oneof(
    fc.record({ name, type: fc.constant("file" as const), data: fc.string({ maxLength: 8 }) }),
    fc.record({ name, type: fc.constant("directory" as const) }),
    fc.record({ name, type: fc.constant("symlink" as const), linkname: target }),
    fc.record({ name, type: fc.constant("link" as const), linkname: target }),
  );
}

function tarOf(entries: TarEntry[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = pack();
    const chunks: Buffer[] = [];
    p.on("data", (c: unknown) => chunks.push(c as Buffer));
    p.on("end", () => resolve(Buffer.concat(chunks)));
    p.on("error", reject);
    for (const e of entries) {
      if (e.type === "file") p.entry({ name: e.name, type: "file", mode: 0o644 }, e.data ?? "");
      else p.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o755 });
    }
    p.finalize();
  });
}

test("random tar streams into image import never write outside the layer", async () => {
  const tars = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(hostileEntry(), { minLength: 1, maxLength: 6 }).chain((e) => fc.constant(e)),
    },
    { weight: 1, arbitrary: fc.constant<TarEntry[]>([]) },
  );
  await fc.assert(
    fc.asyncProperty(tars, fc.nat(2000), async (entries, cut) => {
      let body = await tarOf(entries);
      // Sometimes a truncated or corrupted stream.
      if (cut % 3 === 1) body = body.subarray(0, cut);
      if (cut % 3 === 2 && body.length > 600) body[cut % body.length] ^= 0xff;
      await assertClientError("POST", "/images/create?fromSrc=-&repo=fz&tag=x", body, "application/x-tar");
      assert.deepEqual(await readdir(outside), [], `written outside by ${JSON.stringify(entries)}`);
    }),
    params,
  );
  assert.equal(await api(d, "GET", "/_ping"), "OK");
});
