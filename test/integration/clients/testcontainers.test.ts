/**
 * testcontainers-node (the npm package) against wharf: Wait.forLogMessage (its follow=1&tail=-1&since=<s.frac>
 * logs request) and a default-bridge container connected to a user network afterwards resolving names there.
 * Ryuk (the reaper image from Docker Hub) is off: there is no Hub here, and the test removes what it made.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
type Tc = typeof import("testcontainers");
let tc: Tc;

before(async () => {
  d = await startDaemon({ name: "tcnode" });
  await importBusybox(d);
  // testcontainers reads its environment once, when it first looks for a container runtime.
  process.env.DOCKER_HOST = d.host;
  process.env.TESTCONTAINERS_HOST_OVERRIDE = "localhost";
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  tc = await import("testcontainers");
});
after(async () => {
  await d?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await docker(d, args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

test("Wait.forLogMessage sees a line logged after start, and a message never logged times out", async () => {
  const c = await new tc.GenericContainer("busybox:latest")
    .withCommand(["sh", "-c", "echo starting; sleep 1; echo ready now; exec sleep 600"])
    .withWaitStrategy(tc.Wait.forLogMessage("ready now"))
    .withStartupTimeout(60_000)
    .start();
  try {
    const logs = await c.logs();
    let text = "";
    await new Promise<void>((resolve, reject) => {
      const stop = setTimeout(() => reject(new Error(`no "ready now" in the logs: ${text}`)), 30_000);
      logs.on("data", (b: Buffer | string) => {
        text += b.toString();
        if (text.includes("ready now")) {
          clearTimeout(stop);
          resolve();
        }
      });
      logs.on("error", reject);
    });
    logs.destroy();
  } finally {
    await c.stop({ timeout: 1 });
  }
  await assert.rejects(
    new tc.GenericContainer("busybox:latest")
      .withCommand(["sh", "-c", "echo other; exec sleep 600"])
      .withWaitStrategy(tc.Wait.forLogMessage("never said"))
      .withStartupTimeout(3_000)
      .start(),
    /never said|timed out|Log message/i,
  );
  // The container of the failed start is left for us (testcontainers stops nothing without Ryuk).
  const left = (await ok(["ps", "-aq"])).trim();
  if (left) await ok(["rm", "-f", ...left.split("\n")]);
});

test("a container on the default bridge, connected to a user network later, resolves names on it", async () => {
  const net = await new tc.Network().start();
  try {
    const web = await new tc.GenericContainer("busybox:latest")
      .withCommand(["sleep", "600"])
      .withNetwork(net)
      .withNetworkAliases("web")
      .start();
    const late = await new tc.GenericContainer("busybox:latest").withCommand(["sleep", "600"]).start();
    try {
      await ok(["network", "connect", "--alias", "late-alias", net.getName(), late.getId()]);
      const there = await late.exec(["nslookup", "web"]);
      assert.equal(there.exitCode, 0, there.output);
      assert.match(there.output, new RegExp(web.getIpAddress(net.getName()).replaceAll(".", "\\.")));
      const back = await web.exec(["nslookup", "late-alias"]);
      assert.equal(back.exitCode, 0, back.output);
    } finally {
      await late.stop({ timeout: 1 });
      await web.stop({ timeout: 1 });
    }
  } finally {
    await net.stop();
  }
});
