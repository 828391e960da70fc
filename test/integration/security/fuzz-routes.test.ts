/**
 * Every operation the Engine API reference declares, with random path parameters, query values and bodies
 * drawn from the reference's own parameter and schema declarations (then type-confused): the daemon
 * answers each within a deadline and never with a 5xx that Docker would not give, and is alive at the end.
 *
 * The reference is read at test time from ../shared/reference (or WHARF_API_REFERENCE); without it the test
 * is skipped. Values that could make the daemon talk to a host other than loopback (registry names, remote
 * build contexts, import URLs, auth servers) are pinned to a closed loopback port, network bodies never name
 * a subnet or bridge, and only containers the test made as throw-aways are stopped, started or removed.
 * Bounded: WHARF_FUZZ_ROUTE_RUNS samples per operation (default 8), seeded by WHARF_FUZZ_SEED.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { parse } from "yaml";
import {
  api,
  importBusybox,
  ROOT,
  startDaemon,
  type TestDaemon,
  timedRequest,
} from "../../helpers/daemon.ts";

/** The reference beside the checkout (../shared/reference), looked for upwards from the repository root. */
function findReference(): string {
  let dir = ROOT;
  for (let i = 0; i < 4; i++) {
    const f = join(dir, "..", "shared/reference/docker-engine-api-v1.47.yaml");
    if (existsSync(f)) return f;
    dir = join(dir, "..");
  }
  return join(ROOT, "../shared/reference/docker-engine-api-v1.47.yaml");
}
const REFERENCE = process.env.WHARF_API_REFERENCE ?? findReference();
const SEED = Number(process.env.WHARF_FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.WHARF_FUZZ_ROUTE_RUNS ?? 8);
const DEADLINE_MS = 15_000;

/** Operations that take the connection over and hold it (attach, exec start, BuildKit's session). */
const HIJACKS = new Set([
  "POST /containers/{id}/attach",
  "GET /containers/{id}/attach/ws",
  "POST /exec/{id}/start",
  "POST /session",
]);
/** Where Docker itself answers 503: swarm routes on a node that is no swarm manager. */
const SWARM = /^\/(swarm|nodes|services|tasks|secrets|configs)\b/;
/** A registry that cannot be reached: dockerd answers 500 "connection refused" too. */
const UNREACHABLE = /127\.0\.0\.1:1\b.*(ECONNREFUSED|refused)|(ECONNREFUSED|refused).*127\.0\.0\.1:1\b/;
/** Names that reach a registry: only ones on a closed loopback port. */
const SAFE_REMOTE = fc.constantFrom("127.0.0.1:1/fz", "127.0.0.1:1/fz:v1", "127.0.0.1:1/a/b@sha256:00");

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  format?: string;
}
interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "body";
  type?: string;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  params: Parameter[];
}

let d: TestDaemon;
let running: string;
let execId: string;
let reference: {
  paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
  definitions: Record<string, Schema>;
};

const present = existsSync(REFERENCE);
if (present) reference = parse(readFileSync(REFERENCE, "utf8"));

/** Throw-away containers the fuzz may stop, start, rename or remove; recreated before each sample. */
const DISPOSABLE = ["fz-a", "fz-b"];

before(async () => {
  if (!present) return;
  d = await startDaemon({ name: "fuzzroutes" });
  await importBusybox(d);
  running = (
    await api<{ Id: string }>(d, "POST", "/containers/create?name=fz-running", {
      Image: "busybox",
      Cmd: ["sleep", "600"],
    })
  ).Id;
  await api(d, "POST", `/containers/${running}/start`);
  execId = (await api<{ Id: string }>(d, "POST", `/containers/${running}/exec`, { Cmd: ["true"] })).Id;
});
after(async () => {
  await d?.stop();
});

const anyJson = fc.jsonValue({ maxDepth: 2 });
const shortString = fc.string({ maxLength: 12 });

function resolve(s: Schema): Schema {
  let cur = s;
  for (let i = 0; cur.$ref && i < 10; i++)
    cur = reference.definitions[cur.$ref.replace("#/definitions/", "")] ?? {};
  if (cur.allOf) {
    const parts = cur.allOf.map(resolve);
    return { type: "object", properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) };
  }
  return cur;
}

/** Values of a schema, nested to `depth`, with a chance of any JSON in place of each (type confusion). */
function fromSchema(s: Schema, depth: number): fc.Arbitrary<unknown> {
  const r = resolve(s);
  const typed = (): fc.Arbitrary<unknown> => {
    if (r.enum?.length) return fc.oneof(fc.constantFrom(...r.enum), shortString);
    switch (r.type) {
      case "object": {
        if (depth <= 0 || !r.properties) return fc.dictionary(shortString, anyJson, { maxKeys: 2 });
        const props = Object.fromEntries(
          Object.entries(r.properties).map(([k, v]) => [k, fromSchema(v, depth - 1)]),
        );
        return fc.record(props, { requiredKeys: [] });
      }
      case "array":
        return depth <= 0
          ? fc.constant([])
          : fc.array(fromSchema(r.items ?? {}, depth - 1), { maxLength: 2 });
      case "integer":
      case "number":
        return fc.oneof(fc.integer({ min: -3, max: 4096 }), fc.constantFrom(-1, 2 ** 53, -(2 ** 40), 1.5));
      case "boolean":
        return fc.boolean();
      case "string":
        return shortString;
      default:
        return anyJson;
    }
  };
  return fc.oneof({ weight: 6, arbitrary: typed() }, { weight: 1, arbitrary: anyJson });
}

const boolValue = fc.constantFrom("true", "false", "1", "0", "yes", "", "2");
const intValue = fc.oneof(
  fc.integer({ min: -5, max: 100 }).map(String),
  fc.constantFrom("-1", "99999999999999999999", "1e3", "abc", ""),
);
const filtersValue = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom("label", "name", "id", "status", "dangling", "until", "before", "type", "x"),
      fc.array(shortString, { maxLength: 2 }),
      { maxKeys: 2 },
    )
    .map((f) => JSON.stringify(f)),
  anyJson.map((v) => JSON.stringify(v)),
  shortString,
);

/** Path parameter values: ids and names that exist, that do not, and junk. Mutating routes get no live one. */
function pathValue(op: Operation, name: string): fc.Arbitrary<string> {
  const p = op.path;
  const junk = fc.oneof(shortString, fc.constantFrom("nope", "..", "%2e%2e", "a/b", "0"));
  if (/\/(push|json)$/.test(p) && p.startsWith("/distribution")) return SAFE_REMOTE;
  if (p.startsWith("/images/{name}/push")) return SAFE_REMOTE;
  if (p.startsWith("/containers/{id}")) {
    const readOnly = op.method === "GET" || op.method === "HEAD";
    const waits = p.endsWith("/wait");
    return readOnly && !p.endsWith("/archive")
      ? fc.oneof(fc.constantFrom(running, "fz-running", ...DISPOSABLE), junk)
      : waits
        ? fc.oneof(fc.constantFrom("nope"), junk)
        : fc.oneof(fc.constantFrom(...DISPOSABLE), junk);
  }
  if (p.startsWith("/exec/{id}")) return fc.oneof(fc.constant(execId), junk);
  if (p.startsWith("/images/{name}")) {
    // Only the read routes may name busybox: a random delete or tag of it would just shrink the run.
    return op.method === "GET" ? fc.oneof(fc.constantFrom("busybox", "busybox:latest"), junk) : junk;
  }
  if (p.startsWith("/networks/{id}")) {
    return op.method === "DELETE" ? junk : fc.oneof(fc.constantFrom("bridge", "none", "host"), junk);
  }
  if (p.startsWith("/volumes/{name}")) return fc.oneof(fc.constant("fzv"), junk);
  if (p.startsWith("/plugins/{name}")) return SAFE_REMOTE;
  void name;
  return junk;
}

/** Query values by the parameter's declared type, except those pinned for safety or to keep a call finite. */
function queryValue(op: Operation, q: Parameter): fc.Arbitrary<string | undefined> {
  const p = op.path;
  switch (q.name) {
    case "remote":
      return p === "/build" ? fc.constant(undefined) : SAFE_REMOTE;
    case "fromImage":
      return SAFE_REMOTE;
    case "fromSrc":
      return fc.constantFrom("-", "http://127.0.0.1:1/x.tar", undefined);
    case "term":
      return SAFE_REMOTE;
    case "follow":
    case "stream":
      return fc.constant("false");
    case "until":
      if (p === "/events") return fc.constant(String(Math.floor(Date.now() / 1000)));
      break;
    case "condition":
      return fc.constantFrom("not-running", "removed", "bogus");
    case "filters":
      return filtersValue;
  }
  const base = q.type === "boolean" ? boolValue : q.type === "integer" ? intValue : shortString;
  return fc.option(base, { nil: undefined, freq: 2 });
}

/** A body for the operation, from its schema, with what must never happen made impossible. */
function bodyValue(op: Operation, b: Parameter | undefined): fc.Arbitrary<Buffer | undefined> {
  if (!b) return fc.constant(undefined);
  const p = op.path;
  const raw = fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u));
  if (!b.schema || (b.schema.type === "string" && b.schema.format === "binary"))
    return fc.option(raw, { nil: undefined });
  const value = fromSchema(b.schema, 3).map((v) => sanitize(p, v));
  const text = fc.oneof(
    { weight: 5, arbitrary: value.map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: value.chain((v) =>
        fc.nat(JSON.stringify(v)?.length ?? 0).map((n) => (JSON.stringify(v) ?? "").slice(0, n)),
      ),
    },
    { weight: 1, arbitrary: shortString },
  );
  return text.map((t) => Buffer.from(t ?? ""));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Takes out of a body what would reach beyond loopback or take a host resource. */
function sanitize(path: string, v: unknown): unknown {
  if (!isObject(v)) return v;
  if (path === "/auth") return { ...v, serveraddress: "127.0.0.1:1" };
  if (path === "/networks/create") {
    const out: Record<string, unknown> = { ...v };
    for (const k of Object.keys(out)) {
      const l = k.toLowerCase();
      if (l === "ipam" || l === "enableipv6" || l === "enableipv4" || l === "configfrom") delete out[k];
      if (l === "driver")
        out[k] = typeof out[k] === "string" && out[k] !== "bridge" ? "fz-no-driver" : out[k];
      if (l === "options") out[k] = isObject(out[k]) ? {} : out[k];
    }
    return out;
  }
  if (path === "/volumes/create" || path === "/volumes/{name}") {
    const out: Record<string, unknown> = { ...v };
    for (const k of Object.keys(out)) if (k.toLowerCase() === "driveropts") out[k] = {};
    return out;
  }
  if (path === "/containers/create" || path === "/commit") {
    // Created, never started: still, no volume driver options that mount a device at create.
    const hc = v.HostConfig;
    if (isObject(hc)) delete hc.Mounts;
    return v;
  }
  return v;
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(reference.paths)) {
    const shared = (ops.parameters as unknown as Parameter[] | undefined) ?? [];
    for (const [method, op] of Object.entries(ops)) {
      if (method === "parameters") continue;
      const m = method.toUpperCase();
      if (HIJACKS.has(`${m} ${path}`)) continue;
      out.push({ method: m, path, params: [...shared, ...(op.parameters ?? [])] });
    }
  }
  return out;
}

/** Brings the throw-away containers back: a sample may have removed or renamed them. */
async function resetDisposables(): Promise<void> {
  for (const name of DISPOSABLE) {
    const have = await api(d, "GET", `/containers/${name}/json`).then(
      () => true,
      () => false,
    );
    if (!have)
      await api(d, "POST", `/containers/create?name=${name}`, { Image: "busybox", Cmd: ["true"] }).catch(
        () => undefined,
      );
  }
  for (const c of await api<{ Id: string; Names: string[] }[]>(d, "GET", "/containers/json?all=1")) {
    const n = c.Names[0]?.slice(1) ?? "";
    if (c.Id !== running && !DISPOSABLE.includes(n))
      await api(d, "DELETE", `/containers/${c.Id}?force=1`).catch(() => undefined);
  }
  // The fuzz may delete busybox (prune, rmi); the next samples need it.
  await api(d, "GET", "/images/busybox/json").catch(() => importBusybox(d));
}

test("every operation of the API reference answers random requests without a 5xx Docker would not give", {
  skip: present ? false : `no API reference at ${REFERENCE}`,
}, async (t) => {
  const ops = operations();
  /** Status classes seen per operation, reported as a diagnostic: a route that only ever 404s is untested. */
  const seen = new Map<string, Record<string, number>>();
  assert.ok(ops.length > 90, `only ${ops.length} operations read from ${REFERENCE}`);
  const failures: string[] = [];
  for (const [i, op] of ops.entries()) {
    const queries = op.params.filter((p) => p.in === "query");
    const pathParams = op.params.filter((p) => p.in === "path");
    const bodyParam = op.params.find((p) => p.in === "body");
    const sample = fc.record({
      path: fc.tuple(...pathParams.map((p) => pathValue(op, p.name)), fc.constant("")),
      query: fc.tuple(...queries.map((q) => queryValue(op, q)), fc.constant(undefined)),
      body: bodyValue(op, bodyParam),
      ct: fc.constantFrom("application/json", "application/x-tar", "text/plain"),
    });
    await fc
      .assert(
        fc.asyncProperty(sample, async (s) => {
          await resetDisposables();
          let path = op.path;
          pathParams.forEach((p, j) => {
            path = path.replace(`{${p.name}}`, encodeURIComponent(s.path[j] as string));
          });
          const qs = queries
            .map((q, j) =>
              s.query[j] === undefined ? "" : `${q.name}=${encodeURIComponent(s.query[j] as string)}`,
            )
            .filter(Boolean)
            .join("&");
          const url = `/v1.47${path}${qs ? `?${qs}` : ""}`;
          const r = await timedRequest(
            d,
            { method: op.method, path: url, body: s.body, headers: s.body ? { "Content-Type": s.ct } : {} },
            DEADLINE_MS,
          );
          const tally = seen.get(`${op.method} ${op.path}`) ?? {};
          tally[`${Math.floor(r.status / 100)}xx`] = (tally[`${Math.floor(r.status / 100)}xx`] ?? 0) + 1;
          seen.set(`${op.method} ${op.path}`, tally);
          const fine =
            r.status < 500 || (r.status === 503 && SWARM.test(op.path)) || UNREACHABLE.test(r.text);
          if (!fine)
            failures.push(
              `${op.method} ${url} → ${r.status} ${r.text.slice(0, 200)} (body ${s.body?.toString("utf8").slice(0, 200)})`,
            );
          if (r.status >= 500) assert.ok(fine, failures.at(-1));
          assert.equal(await api(d, "GET", "/_ping"), "OK");
        }),
        { seed: SEED + i, numRuns: RUNS, endOnFailure: true },
      )
      .catch((e: Error) => {
        failures.push(`${op.method} ${op.path}: ${e.message.split("\n").slice(0, 6).join(" | ")}`);
      });
  }
  for (const [k, v] of seen) t.diagnostic(`${k} ${JSON.stringify(v)}`);
  assert.deepEqual(failures, []);
});
