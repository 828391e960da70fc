/** The Engine API directly: versions, error shapes, wait conditions, and state across daemon restarts. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { api, docker, freePort, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "api" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

function raw(
  method: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function create(body: Record<string, unknown>, name?: string): Promise<string> {
  const q = name ? `?name=${name}` : "";
  const r = await api<{ Id: string }>(d, "POST", `/containers/create${q}`, { Image: "busybox", ...body });
  return r.Id;
}

describe("engine API", () => {
  test("ping, versions and headers", async () => {
    const p = await raw("GET", "/_ping");
    assert.equal(p.status, 200);
    assert.equal(p.body, "OK");
    assert.equal(p.headers["api-version"], "1.47");
    const h = await raw("HEAD", "/_ping");
    assert.equal(h.status, 200);
    const v = JSON.parse((await raw("GET", "/v1.24/version")).body);
    assert.equal(v.ApiVersion, "1.47");
    assert.equal(v.MinAPIVersion, "1.24");
    const old = await raw("GET", "/v1.12/version");
    assert.equal(old.status, 400);
    assert.match(JSON.parse(old.body).message, /too old/);
    const nf = await raw("GET", "/v1.41/containers/nope/json");
    assert.equal(nf.status, 404);
    assert.deepEqual(JSON.parse(nf.body), { message: "No such container: nope" });
    const bad = await raw("GET", "/containers/json?filters=%7Bnot-json");
    assert.equal(bad.status, 400);
  });

  test("malformed create bodies are 400", async () => {
    await assert.rejects(
      api(d, "POST", "/containers/create", undefined),
      (e: Error & { status: number }) => e.status === 400,
    );
    await assert.rejects(
      api(d, "POST", "/containers/create?name=bad%20name", { Image: "busybox" }),
      (e: Error & { status: number }) => e.status === 400 && /Invalid container name/.test(e.message),
    );
    await assert.rejects(
      api(d, "POST", "/containers/create", { Image: "nosuchimage" }),
      (e: Error & { status: number }) =>
        e.status === 404 && e.message === "No such image: nosuchimage:latest",
    );
  });

  test("start twice is 304, stop of a stopped container is 304, kill of a stopped one 409", async () => {
    const id = await create({ Cmd: ["sleep", "100"] });
    const s1 = await raw("POST", `/containers/${id}/start`);
    assert.equal(s1.status, 204);
    const s2 = await raw("POST", `/containers/${id}/start`);
    assert.equal(s2.status, 304);
    const k = await raw("POST", `/containers/${id}/kill`);
    assert.equal(k.status, 204);
    await api(d, "POST", `/containers/${id}/wait`);
    const st = await raw("POST", `/containers/${id}/stop`);
    assert.equal(st.status, 304);
    const k2 = await raw("POST", `/containers/${id}/kill`);
    assert.equal(k2.status, 409);
    await api(d, "DELETE", `/containers/${id}`);
  });

  test("wait next-exit registered before start catches an instant exit", async () => {
    const id = await create({ Cmd: ["sh", "-c", "exit 7"] });
    const wait = api<{ StatusCode: number }>(d, "POST", `/containers/${id}/wait?condition=next-exit`);
    await api(d, "POST", `/containers/${id}/start`);
    assert.equal((await wait).StatusCode, 7);
    const again = await api<{ StatusCode: number }>(d, "POST", `/containers/${id}/wait`);
    assert.equal(again.StatusCode, 7);
    const removed = api<{ StatusCode: number }>(d, "POST", `/containers/${id}/wait?condition=removed`);
    await api(d, "DELETE", `/containers/${id}`);
    assert.equal((await removed).StatusCode, 7);
  });

  test("list filters: status, label, name, ancestor, exited", async () => {
    const a = await create({ Cmd: ["true"], Labels: { tier: "x" } }, "flt-a");
    await create({ Cmd: ["sleep", "100"], Labels: { tier: "y" } }, "flt-b");
    await api(d, "POST", "/containers/flt-b/start");
    await api(d, "POST", `/containers/${a}/start`);
    await api(d, "POST", `/containers/${a}/wait`);
    const q = (f: object) =>
      api<{ Names: string[] }[]>(
        d,
        "GET",
        `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(f))}`,
      );
    const names = (l: { Names: string[] }[]) => l.map((c) => c.Names[0]).sort();
    assert.deepEqual(names(await q({ status: ["running"], name: ["flt-"] })), ["/flt-b"]);
    assert.deepEqual(names(await q({ label: ["tier=x"] })), ["/flt-a"]);
    assert.deepEqual(names(await q({ label: { tier: true }, name: ["flt-"] })), ["/flt-a", "/flt-b"]);
    assert.deepEqual(names(await q({ exited: ["0"], name: ["flt-"] })), ["/flt-a"]);
    assert.deepEqual(names(await q({ ancestor: ["busybox"], name: ["flt-"] })), ["/flt-a", "/flt-b"]);
    const running = await api<unknown[]>(d, "GET", "/containers/json");
    assert.ok(running.length >= 1);
    await assert.rejects(q({ bogus: ["1"] }), (e: Error & { status: number }) => e.status === 400);
    await api(d, "DELETE", "/containers/flt-a?force=1");
    await api(d, "DELETE", "/containers/flt-b?force=1");
  });

  test("list filters: publish, expose, volume, network", async () => {
    const hp = await freePort();
    const pub = await create(
      {
        Cmd: ["sleep", "100"],
        ExposedPorts: { "80/tcp": {} },
        HostConfig: {
          PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(hp) }] },
          Binds: ["fltvol:/data"],
        },
      },
      "flt-pub",
    );
    const plain = await create({ Cmd: ["sleep", "100"] }, "flt-plain");
    await api(d, "POST", `/containers/${pub}/start`);
    await api(d, "POST", `/containers/${plain}/start`);
    const q = (f: object) =>
      api<{ Names: string[] }[]>(
        d,
        "GET",
        `/containers/json?filters=${encodeURIComponent(JSON.stringify(f))}`,
      );
    const names = (l: { Names: string[] }[]) => l.map((c) => c.Names[0]).sort();
    // publish is the host side of a binding, as dockerd matches it; the container side is expose's.
    assert.deepEqual(names(await q({ publish: [String(hp)], name: ["flt-"] })), ["/flt-pub"]);
    assert.deepEqual(names(await q({ publish: [`${hp - 1}-${hp + 1}/tcp`], name: ["flt-"] })), ["/flt-pub"]);
    assert.deepEqual(names(await q({ publish: [`${hp}/udp`], name: ["flt-"] })), []);
    assert.deepEqual(names(await q({ publish: ["80"], name: ["flt-"] })), []);
    assert.deepEqual(names(await q({ expose: ["80"], name: ["flt-"] })), ["/flt-pub"]);
    assert.deepEqual(names(await q({ volume: ["fltvol"], name: ["flt-"] })), ["/flt-pub"]);
    assert.deepEqual(names(await q({ volume: ["/data"], name: ["flt-"] })), ["/flt-pub"]);
    assert.deepEqual(
      names(await q({ network: ["bridge"], name: ["flt-"] })),
      ["/flt-pub", "/flt-plain"].sort(),
    );
    assert.deepEqual(names(await q({ network: ["nosuchnet"], name: ["flt-"] })), []);
    await assert.rejects(q({ publish: ["abc"] }), (e: Error & { status: number }) => e.status === 400);
    await api(d, "DELETE", `/containers/${pub}?force=1&v=1`);
    await api(d, "DELETE", `/containers/${plain}?force=1`);
    await api(d, "DELETE", "/volumes/fltvol");
  });

  test("state survives a daemon killed with SIGKILL: running containers keep running", async () => {
    const stopped = await create({ Cmd: ["sh", "-c", "exit 4"] }, "rs-stopped");
    await api(d, "POST", `/containers/${stopped}/start`);
    await api(d, "POST", `/containers/${stopped}/wait`);
    const running = await create({ Cmd: ["sh", "-c", "echo before; sleep 1000"] }, "rs-running");
    await api(d, "POST", `/containers/${running}/start`);
    const ender = await create({ Cmd: ["sh", "-c", "sleep 1; exit 9"] }, "rs-ender");
    await api(d, "POST", `/containers/${ender}/start`);
    await d.restart({ kill: true });
    const s = await api<{ State: { Status: string; ExitCode: number } }>(
      d,
      "GET",
      "/containers/rs-stopped/json",
    );
    assert.equal(s.State.Status, "exited");
    assert.equal(s.State.ExitCode, 4);
    const r = await api<{ State: { Status: string; Pid: number } }>(d, "GET", "/containers/rs-running/json");
    assert.equal(r.State.Status, "running");
    process.kill(r.State.Pid, 0);
    // The container that ended while the daemon was down (or right after) has its real exit code.
    const w = await api<{ StatusCode: number }>(d, "POST", "/containers/rs-ender/wait");
    assert.equal(w.StatusCode, 9);
    const logs = await docker(d, ["logs", "rs-running"]);
    assert.equal(logs.stdout, "before\n");
    const stop = await docker(d, ["stop", "-t", "0", "rs-running"]);
    assert.equal(stop.code, 0, stop.stderr);
    for (const n of ["rs-stopped", "rs-running", "rs-ender"])
      await api(d, "DELETE", `/containers/${n}?force=1`);
  });
});
