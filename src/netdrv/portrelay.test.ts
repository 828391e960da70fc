import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hostPortListener, servePortRelay } from "./portrelay.ts";

test("builtin port driver: a host port relayed through the unix socket to the same port on loopback", async () => {
  const dir = await mkdtemp(join(tmpdir(), "portrelay-"));
  // What the daemon's proxy would be: an echo server that upper-cases.
  const inner = createServer((c) => c.on("data", (d) => c.write(d.toString().toUpperCase())));
  await new Promise<void>((r) => inner.listen(0, "127.0.0.1", r));
  const port = (inner.address() as { port: number }).port;
  const relaySocket = join(dir, "ports.sock");
  const relay = await servePortRelay(relaySocket);
  // The same port number on another loopback address stands in for the host side.
  const host = await hostPortListener({ relaySocket, hostIp: "127.0.0.2", hostPort: port });
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: "127.0.0.2", port }, () => c.write("hello"));
      c.once("data", (d) => {
        resolve(d.toString());
        c.destroy();
      });
      c.on("error", reject);
    });
    assert.equal(reply, "HELLO");
    await assert.rejects(
      hostPortListener({ relaySocket, hostIp: "127.0.0.2", hostPort: port }),
      new RegExp(`Bind for 127\\.0\\.0\\.2:${port} failed: port is already allocated`),
    );
  } finally {
    await host.close();
    await relay.close();
    inner.close();
    await rm(dir, { recursive: true, force: true });
  }
});
