/**
 * Port forwards of a rootless daemon: slirp4netns (started by the launcher on the daemon's network
 * namespace) listens on the host and relays to the namespace's tap address; its API socket takes one JSON
 * request per connection (`add_hostfwd`, `remove_hostfwd`) and answers `{"return": ...}` or
 * `{"error": {"desc": ...}}`.
 */
import { connect } from "node:net";

/** The address slirp4netns gives the namespace's tap device (its default 10.0.2.0/24 network). */
export const SLIRP_GUEST_IP = "10.0.2.100";

/** One request on slirp4netns's API socket; its `return` value, or an Error with slirp's description. */
export function slirpRequest(
  apiSocket: string,
  req: { execute: string; arguments: object },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: apiSocket });
    let text = "";
    sock.setEncoding("utf8");
    sock.on("data", (c: string) => {
      text += c;
    });
    sock.on("error", reject);
    sock.on("end", () => {
      let reply: { return?: unknown; error?: { desc?: string } };
      try {
        reply = JSON.parse(text) as typeof reply;
      } catch {
        reject(new Error(`slirp4netns: unreadable reply ${JSON.stringify(text)}`));
        return;
      }
      if (reply.error) reject(new Error(reply.error.desc ?? "slirp4netns: request failed"));
      else resolve(reply.return);
    });
    sock.end(JSON.stringify(req));
  });
}

/** A forward from hostIp:hostPort on the host to the namespace's guestPort; close() removes it. */
export interface SlirpForward {
  close(): Promise<void>;
}

/** Asks slirp4netns to forward a host port into the namespace. */
export async function slirpForward(
  apiSocket: string,
  f: { proto: "tcp" | "udp"; hostIp: string; hostPort: number; guestPort: number },
): Promise<SlirpForward> {
  const ret = (await slirpRequest(apiSocket, {
    execute: "add_hostfwd",
    arguments: {
      proto: f.proto,
      host_addr: f.hostIp || "0.0.0.0",
      host_port: f.hostPort,
      guest_addr: SLIRP_GUEST_IP,
      guest_port: f.guestPort,
    },
  })) as { id?: number } | undefined;
  const id = ret?.id;
  return {
    async close() {
      if (id === undefined) return;
      await slirpRequest(apiSocket, { execute: "remove_hostfwd", arguments: { id } });
    },
  };
}
