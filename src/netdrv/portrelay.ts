/**
 * The builtin port driver of a rootless daemon, as rootlesskit's: the launcher, outside the daemon's
 * network namespace, listens on the published host address and port; each connection it accepts is
 * relayed through a unix socket the daemon serves (a path on the shared filesystem, reachable from both
 * namespaces) to the same port on the namespace's loopback, where the daemon's own port proxy listens.
 * One header line per relayed connection names the port: `tcp 8080\n`.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Pipes two sockets both ways, half-closes passed on; either erroring or closing ends both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end);
  b.on("error", end);
  a.on("close", end);
  b.on("close", end);
}

/** The daemon's side: serves `socketPath`, connecting each relayed connection to 127.0.0.1:PORT. */
export function servePortRelay(socketPath: string): Promise<{ close(): Promise<void> }> {
  const conns = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (relay) => {
    conns.add(relay);
    relay.on("close", () => conns.delete(relay));
    let head = "";
    const onData = (c: Buffer) => {
      head += c.toString("latin1");
      const nl = head.indexOf("\n");
      if (nl < 0) {
        if (head.length > 64) relay.destroy();
        return;
      }
      relay.off("data", onData);
      relay.pause();
      const m = /^tcp (\d{1,5})$/.exec(head.slice(0, nl));
      const port = Number(m?.[1]);
      if (!m || port < 1 || port > 65535) {
        relay.destroy();
        return;
      }
      const rest = Buffer.from(head.slice(nl + 1), "latin1");
      const up = connect({ host: "127.0.0.1", port, allowHalfOpen: true, noDelay: true });
      conns.add(up);
      up.on("close", () => conns.delete(up));
      if (rest.length) up.write(rest);
      splice(relay, up);
      relay.resume();
    };
    relay.on("data", onData);
    relay.on("error", () => relay.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () =>
      resolve({
        close: () =>
          new Promise<void>((r) => {
            for (const s of conns) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}

/** The launcher's side of one published TCP port: listens on the host and relays to the daemon. */
export function hostPortListener(o: {
  relaySocket: string;
  hostIp: string;
  hostPort: number;
}): Promise<{ port: number; close(): Promise<void> }> {
  const conns = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const relay = connect({ path: o.relaySocket, allowHalfOpen: true });
    conns.add(client);
    conns.add(relay);
    client.on("close", () => conns.delete(client));
    relay.on("close", () => conns.delete(relay));
    relay.write(`tcp ${o.hostPort}\n`);
    splice(client, relay);
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new Error(`Bind for ${o.hostIp || "0.0.0.0"}:${o.hostPort} failed: port is already allocated`)
          : e,
      ),
    );
    server.listen({ host: o.hostIp || "0.0.0.0", port: o.hostPort, exclusive: true }, () =>
      resolve({
        port: o.hostPort,
        close: () =>
          new Promise<void>((r) => {
            for (const s of conns) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}
