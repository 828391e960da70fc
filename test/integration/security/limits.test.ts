/**
 * HTTP limits of the API server, with a real daemon whose hidden --api-* flags make them small: an oversized
 * request head is a 431, an oversized JSON body a 400, a head sent too slowly (slow-loris) ends the
 * connection, while streams that outlive the timeouts (logs -f, events, attach) keep working; one client
 * holding more attach/exec connections than allowed gets a 429 until it closes one.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { api, DOCKER, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

const HEADERS_TIMEOUT_MS = 1000;
const MAX_HIJACKED = 3;
let d: TestDaemon;
before(async () => {
  d = await startDaemon({
    name: "limits",
    args: [
      "--api-max-header-size",
      "8192",
      "--api-max-json-body",
      "65536",
      "--api-headers-timeout-ms",
      String(HEADERS_TIMEOUT_MS),
      "--api-body-timeout-ms",
      String(HEADERS_TIMEOUT_MS),
      "--api-max-hijacked-per-client",
      String(MAX_HIJACKED),
    ],
  });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** Opens a raw connection to the daemon's socket. */
function raw(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(d.socket);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Everything the daemon writes until it closes the connection, and when it closed. */
function untilClosed(s: Socket): Promise<{ text: string; closedAt: number }> {
  return new Promise((resolve) => {
    let text = "";
    s.on("data", (c: Buffer) => {
      text += c.toString();
    });
    s.on("error", () => undefined);
    s.once("close", () => resolve({ text, closedAt: Date.now() }));
  });
}

test("a request head over the limit is a 431 and the connection ends", async () => {
  const s = await raw();
  const closed = untilClosed(s);
  s.write(`GET /_ping HTTP/1.1\r\nHost: docker\r\nX-Big: ${"a".repeat(16 * 1024)}\r\n\r\n`);
  const { text } = await closed;
  assert.match(text, /^HTTP\/1\.1 431 /);
  // The daemon still serves others.
  assert.equal(await api(d, "GET", "/_ping"), "OK");
});

test("a JSON body over the limit is a 400 with a clear message, and nothing is created", async () => {
  const big = { Image: "busybox", Env: [`X=${"a".repeat(128 * 1024)}`] };
  await assert.rejects(api(d, "POST", "/containers/create", big), (e: Error & { status: number }) => {
    assert.equal(e.status, 400);
    assert.match(e.message, /^request body too large: the limit for a JSON body is 65536 bytes$/);
    return true;
  });
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
  // The docker CLI shows the daemon's message.
  const r = await docker(d, ["network", "create", "--label", `x=${"a".repeat(70 * 1024)}`, "big"]);
  assert.match(r.stderr, /request body too large/);
});

test("slow-loris: a head sent a byte at a time slower than the timeout is cut", async () => {
  const s = await raw();
  const closed = untilClosed(s);
  const started = Date.now();
  const head = `GET /_ping HTTP/1.1\r\nHost: docker\r\nX-Slow: ${"b".repeat(200)}`;
  let i = 0;
  const drip = setInterval(() => {
    if (!s.destroyed && i < head.length) s.write(head[i++] ?? "");
  }, 100);
  try {
    const { text, closedAt } = await closed;
    // Cut after the timeout, well before the head could have finished (200+ bytes at 10/s = 20 s).
    assert.ok(closedAt - started >= HEADERS_TIMEOUT_MS - 100, `closed after ${closedAt - started} ms`);
    assert.ok(closedAt - started < HEADERS_TIMEOUT_MS * 5, `closed after ${closedAt - started} ms`);
    assert.match(text, /^(HTTP\/1\.1 408 |$)/);
  } finally {
    clearInterval(drip);
    s.destroy();
  }
});

test("a JSON body sent too slowly is cut too", async () => {
  const s = await raw();
  const closed = untilClosed(s);
  s.write(
    "POST /volumes/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
  );
  const started = Date.now();
  const { closedAt } = await closed;
  assert.ok(closedAt - started < HEADERS_TIMEOUT_MS * 5);
  assert.deepEqual((await api<{ Volumes: unknown[] }>(d, "GET", "/volumes")).Volumes, []);
});

/** Runs the docker CLI until `done` matches its output; returns the output. */
function follow(args: string[], done: RegExp, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(DOCKER, ["-H", d.host, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`docker ${args.join(" ")} did not finish: ${out}`));
    }, 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (done.test(out)) {
        clearTimeout(timer);
        p.kill();
        resolve(out);
      }
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    if (input !== undefined) p.stdin.write(input);
  });
}

test("logs -f, events and attach outlive the timeouts", async () => {
  const loop = "for i in 1 2 3 4 5 6; do echo tick$i; sleep 0.5; done; sleep 30";
  const id = (await docker(d, ["run", "-d", "busybox", "sh", "-c", loop])).stdout.trim();
  try {
    // 3 s of output, three times the headers timeout, over one following connection.
    const logs = await follow(["logs", "-f", id], /tick6/);
    assert.match(logs, /tick1[\s\S]*tick6/);

    const events = follow(["events", "--filter", "type=volume"], /create/);
    await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS * 2.5));
    await api(d, "POST", "/volumes/create", { Name: "late" });
    assert.match(await events, /volume create late/);

    const cat = (await docker(d, ["run", "-d", "-i", "busybox", "cat"])).stdout.trim();
    try {
      const attach = follow(["attach", cat], /after-timeout/);
      await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS * 2.5));
      // stdin written after the timeout still reaches the container and comes back.
      const ex = await docker(d, ["exec", cat, "sh", "-c", "echo after-timeout > /proc/1/fd/1"]);
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(await attach, /after-timeout/);
    } finally {
      await docker(d, ["rm", "-f", cat]);
    }
  } finally {
    await docker(d, ["rm", "-f", id]);
    await api(d, "DELETE", "/volumes/late");
  }
});

/** Starts an exec of `cat` hijacked over a raw connection; resolves once the daemon answered 101. */
async function heldExec(container: string): Promise<Socket> {
  const { Id } = await api<{ Id: string }>(d, "POST", `/containers/${container}/exec`, {
    Cmd: ["cat"],
    AttachStdin: true,
    AttachStdout: true,
  });
  const s = await raw();
  const body = JSON.stringify({ Detach: false, Tty: false });
  s.write(
    `POST /v1.47/exec/${Id}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = "";
    const onData = (c: Buffer) => {
      head += c.toString();
      if (!head.includes("\r\n\r\n")) return;
      s.off("data", onData);
      if (/^HTTP\/1\.1 101 /.test(head)) resolve();
      else reject(new Error(`exec start answered ${head}`));
    };
    s.on("data", onData);
  });
  return s;
}

test("a client holding the most attach/exec connections allowed gets a 429 for one more, until it closes one", async () => {
  const id = (await docker(d, ["run", "-d", "busybox", "sleep", "300"])).stdout.trim();
  const held: Socket[] = [];
  try {
    for (let i = 0; i < MAX_HIJACKED; i++) held.push(await heldExec(id));
    // The real CLI's exec is one more hijack from the same user: refused (the CLI shows only the status of
    // a failed upgrade, as against dockerd); the API's answer carries the reason in Docker's shape.
    const refused = await docker(d, ["exec", id, "true"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unable to upgrade to tcp, received 429/);
    const { Id } = await api<{ Id: string }>(d, "POST", `/containers/${id}/exec`, { Cmd: ["true"] });
    const s = await raw();
    const answer = untilClosed(s);
    s.write(
      `POST /v1.47/exec/${Id}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
        `Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const { text } = await answer;
    assert.match(text, /^HTTP\/1\.1 429 /);
    assert.match(
      text,
      /"message":"too many attach and exec connections open from this client: the limit is 3; close some first"/,
    );
    // Plain requests are not counted.
    assert.equal(await api(d, "GET", "/_ping"), "OK");
    const closed = new Promise((r) => held[0].once("close", r));
    held[0].destroy();
    await closed;
    let ok = await docker(d, ["exec", id, "true"]);
    // The daemon may see the close a moment after this side did.
    for (let i = 0; ok.code !== 0 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ok = await docker(d, ["exec", id, "true"]);
    }
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    for (const s of held) s.destroy();
    await docker(d, ["rm", "-f", id]);
  }
});
