/**
 * `docker search` (GET /images/search) as dockerd answers it: the term's registry host is asked through its v1
 * index (`/v1/_ping`, then `/v1/search?q=&n=`), filters and limit applied as dockerd applies them; a v2-only
 * registry answers 404 there ("Unexpected status code 404", as dockerd says for one); a term without a host
 * would go to Docker Hub's index, which wharf does not have.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { api, docker, exec, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { freePort, startWharfRegistry, type TestRegistry } from "../distribution/registries.ts";

let d: TestDaemon;
let index: http.Server;
let indexHost: string;
let registry: TestRegistry;
const asked: { url: string; token?: string; auth?: string }[] = [];

const RESULTS = [
  { name: "foo/app", description: "an app", star_count: 12, is_official: false, is_automated: true },
  { name: "foo", description: "the official one", star_count: 40, is_official: true, is_automated: false },
  { name: "foo/tool", description: "", star_count: 2, is_official: false, is_automated: false },
];

before(async () => {
  // A v1 index on loopback, as Docker Hub's index answers.
  index = http.createServer((req, res) => {
    asked.push({
      url: req.url ?? "",
      token: req.headers["x-docker-token"] as string | undefined,
      auth: req.headers.authorization,
    });
    const u = new URL(req.url ?? "/", "http://x");
    res.setHeader("Content-Type", "application/json");
    if (u.pathname === "/v1/_ping") return res.end("true");
    if (u.pathname !== "/v1/search") {
      res.statusCode = 404;
      return res.end("{}");
    }
    const q = u.searchParams.get("q") ?? "";
    const n = Number(u.searchParams.get("n"));
    const results = RESULTS.filter((r) => r.name.includes(q)).slice(0, n);
    res.end(JSON.stringify({ query: q, num_results: results.length, page_size: n, results }));
  });
  await new Promise<void>((r) => index.listen(0, "127.0.0.1", r));
  indexHost = `127.0.0.1:${(index.address() as AddressInfo).port}`;
  registry = await startWharfRegistry();
  d = await startDaemon({ name: "search" });
});
after(async () => {
  await d?.stop();
  await registry?.stop();
  await new Promise((r) => index?.close(r));
});

describe("docker search", () => {
  test("a registry's v1 index: every result, in Docker's shape, is_automated false", async () => {
    asked.length = 0;
    const r = await docker(d, [
      "search",
      "--no-trunc",
      "--format",
      "{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.Description}}",
      `${indexHost}/foo`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "foo/app|12||an app",
      "foo|40|[OK]|the official one",
      "foo/tool|2||",
    ]);
    assert.deepEqual(
      asked.map((a) => a.url),
      ["/v1/_ping", "/v1/search?q=foo&n=25"],
    );
    assert.equal(asked[1].token, "true");
    const raw = await api<unknown[]>(d, "GET", `/images/search?term=${indexHost}/foo`);
    assert.deepEqual(
      raw,
      RESULTS.map((x) => ({ ...x, is_automated: false })),
    );
  });

  test("--limit and the stars and is-official filters", async () => {
    asked.length = 0;
    const lim = await docker(d, ["search", "--limit", "2", "--format", "{{.Name}}", `${indexHost}/foo`]);
    assert.equal(lim.code, 0, lim.stderr);
    assert.deepEqual(lim.stdout.trim().split("\n"), ["foo/app", "foo"]);
    assert.equal(asked.at(-1)?.url, "/v1/search?q=foo&n=2");

    const stars = await docker(d, ["search", "-f", "stars=10", "--format", "{{.Name}}", `${indexHost}/foo`]);
    assert.equal(stars.code, 0, stars.stderr);
    assert.deepEqual(stars.stdout.trim().split("\n"), ["foo/app", "foo"]);

    const off = await docker(d, [
      "search",
      "-f",
      "is-official=true",
      "--format",
      "{{.Name}}",
      `${indexHost}/foo`,
    ]);
    assert.deepEqual(off.stdout.trim().split("\n"), ["foo"]);
    const notOff = await docker(d, [
      "search",
      "-f",
      "is-official=false",
      "-f",
      "stars=5",
      "--format",
      "{{.Name}}",
      `${indexHost}/foo`,
    ]);
    assert.deepEqual(notOff.stdout.trim().split("\n"), ["foo/app"]);

    // is-automated=true matches nothing (the field is deprecated), without asking the index.
    const before = asked.length;
    const auto = await api<unknown[]>(
      d,
      "GET",
      `/images/search?term=${indexHost}/foo&filters=${encodeURIComponent('{"is-automated":["true"]}')}`,
    );
    assert.deepEqual(auto, []);
    assert.equal(asked.length, before);
  });

  test("bad filters and limits are 400s with dockerd's texts", async () => {
    const cases: [string, RegExp][] = [
      [`filters=${encodeURIComponent('{"name":["x"]}')}`, /^invalid filter 'name'$/],
      [`filters=${encodeURIComponent('{"stars":["lots"]}')}`, /^invalid filter 'stars=lots': strconv.Atoi/],
      [`filters=${encodeURIComponent('{"is-official":["maybe"]}')}`, /^invalid filter 'is-official=maybe'$/],
      ["limit=101", /^limit 101 is outside the range of \[1, 100\]$/],
      ["limit=x", /^invalid limit specified$/],
    ];
    for (const [q, re] of cases) {
      await assert.rejects(
        api(d, "GET", `/images/search?term=${indexHost}/foo&${q}`),
        (e: Error & { status: number }) => {
          assert.equal(e.status, 400, q);
          assert.match(e.message, re);
          return true;
        },
      );
    }
    const cli = await docker(d, ["search", "--limit", "0", `${indexHost}/foo`]);
    assert.equal(cli.code, 0, cli.stderr); // 0 is dockerd's default of 25
    const scheme = await docker(d, ["search", "http://127.0.0.1:5000/foo"]);
    assert.notEqual(scheme.code, 0);
    assert.match(scheme.stderr, /should not have a scheme/);
  });

  test("a v2-only registry, an unreachable one, and no registry host", async () => {
    const v2 = await docker(d, ["search", `${registry.host}/foo`]);
    assert.notEqual(v2.code, 0);
    assert.match(v2.stderr, /Error response from daemon: Unexpected status code 404/);

    const port = await freePort();
    const gone = await docker(d, ["search", `127.0.0.1:${port}/foo`]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, new RegExp(`invalid registry endpoint "http://127.0.0.1:${port}/v1/"`));

    const hub = await docker(d, ["search", "alpine"]);
    assert.notEqual(hub.code, 0);
    assert.match(
      hub.stderr,
      /Error response from daemon: Get "https:\/\/index\.docker\.io\/v1\/search\?q=alpine&n=25": wharf has no default registry/,
    );
    await assert.rejects(
      api(d, "GET", "/images/search?term=library/alpine"),
      (e: Error & { status: number }) => {
        assert.equal(e.status, 500);
        assert.match(e.message, /q=alpine&n=25/);
        return true;
      },
    );
  });

  test("docker-py's search()", async () => {
    const r = await exec("python3", [
      "-c",
      [
        "import docker, json",
        `c = docker.DockerClient(base_url=${JSON.stringify(d.host)}, timeout=60)`,
        `print(json.dumps([x["name"] for x in c.images.search(${JSON.stringify(`${indexHost}/foo`)}, limit=3)]))`,
      ].join("\n"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ["foo/app", "foo", "foo/tool"]);
  });
});
