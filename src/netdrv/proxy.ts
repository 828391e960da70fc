/**
 * The userland port proxy: listens on the published host address and port and relays to the container.
 * It serves what DNAT cannot: connections to loopback and from containers to a host address (whose packets
 * come in on one of this daemon's bridges and are left alone by the NAT chain). Holding the listening socket
 * also reserves the host port, as docker-proxy does.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";

/** A listening proxy; close() stops it and drops its connections. */
export interface PortProxy {
  /** The host port actually bound (the ephemeral one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/** Docker's text for a host port that is taken. */
function inUse(hostIp: string, port: number): Error {
  return new Error(`Bind for ${hostIp || "0.0.0.0"}:${port} failed: port is already allocated`);
}

/** Starts a TCP proxy from hostIp:hostPort to target:targetPort. */
export function tcpProxy(opts: {
  hostIp: string;
  hostPort: number;
  target: string;
  targetPort: number;
}): Promise<PortProxy> {
  const conns = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const up = connect({ host: opts.target, port: opts.targetPort, allowHalfOpen: true, noDelay: true });
    conns.add(client);
    conns.add(up);
    const done = () => {
      conns.delete(client);
      conns.delete(up);
    };
    client.pipe(up);
    up.pipe(client);
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
    client.on("close", () => {
      up.destroy();
      done();
    });
    up.on("close", () => {
      client.destroy();
      done();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? inUse(opts.hostIp, opts.hostPort) : e),
    );
    // An IPv6 address only takes IPv6: [::] beside 0.0.0.0 on one port, as docker-proxy binds them.
    const v6 = opts.hostIp.includes(":");
    server.listen(
      { host: opts.hostIp || "0.0.0.0", port: opts.hostPort, exclusive: true, ipv6Only: v6 },
      () => {
        const addr = server.address();
        resolve({
          port: typeof addr === "object" && addr ? addr.port : opts.hostPort,
          close: () =>
            new Promise<void>((r) => {
              for (const s of conns) s.destroy();
              server.close(() => r());
            }),
        });
      },
    );
  });
}

/** Starts a UDP proxy: one upstream socket per client address, dropped after a minute of silence. */
export function udpProxy(opts: {
  hostIp: string;
  hostPort: number;
  target: string;
  targetPort: number;
}): Promise<PortProxy> {
  // ipv6Only on an IPv4 socket makes its bind fail with EINVAL: only an IPv6 one gets it.
  const v6 = opts.hostIp.includes(":");
  const sock = createSocket({
    type: v6 ? "udp6" : "udp4",
    reuseAddr: false,
    ...(v6 ? { ipv6Only: true } : {}),
  });
  const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
  const idle = 60_000;
  sock.on("message", (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const up = createSocket(opts.target.includes(":") ? "udp6" : "udp4");
      up.on("message", (reply) => {
        sock.send(reply, rinfo.port, rinfo.address);
        const f = flows.get(key);
        f?.timer.refresh();
      });
      up.on("error", () => undefined);
      flow = {
        up,
        timer: setTimeout(() => {
          up.close();
          flows.delete(key);
        }, idle),
      };
      flow.timer.unref();
      flows.set(key, flow);
    } else flow.timer.refresh();
    flow.up.send(msg, opts.targetPort, opts.target);
  });
  return new Promise((resolve, reject) => {
    sock.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? inUse(opts.hostIp, opts.hostPort) : e),
    );
    sock.bind({ address: opts.hostIp || "0.0.0.0", port: opts.hostPort, exclusive: true }, () => {
      sock.removeAllListeners("error");
      sock.on("error", () => undefined);
      resolve({
        port: sock.address().port,
        close: () =>
          new Promise<void>((r) => {
            for (const f of flows.values()) {
              clearTimeout(f.timer);
              f.up.close();
            }
            flows.clear();
            sock.close(() => r());
          }),
      });
    });
  });
}
