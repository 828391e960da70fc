/**
 * What the wharf CLI sends, compared with what the real docker CLI sends for the same command line, both
 * against a fake daemon that records requests. Values a daemon reads the same as absent are ignored.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { DOCKER, exec, WHARF } from "../../helpers/daemon.ts";
import { type FakeDaemon, normalize, startFake } from "./capture.ts";

let f: FakeDaemon;
before(async () => {
  f = await startFake();
});
after(async () => {
  await f?.close();
});

const IGNORED = new Set(["/_ping", "/version"]);

async function sent(cmd: string, args: string[]) {
  f.requests.length = 0;
  const r =
    cmd === DOCKER
      ? await exec(DOCKER, ["-H", f.host, ...args], { env: { DOCKER_CONFIG: f.dir } })
      : await exec(WHARF, args, { env: { WHARF_HOST: f.host, WHARF_CONFIG: f.dir } });
  const reqs = f.requests
    .filter((q) => !IGNORED.has(q.path) && q.method !== "HEAD")
    .map((q) => ({ method: q.method, path: q.path, query: q.query, body: normalize(q.body) }));
  return { code: r.code, reqs };
}

const CASES: string[][] = [
  ["create", "busybox"],
  [
    "create",
    "-p",
    "8080:80",
    "-p",
    "127.0.0.1::53/udp",
    "-p",
    "[::1]:9000-9001:90-91",
    "-P",
    "--expose",
    "70-71",
    "busybox",
  ],
  ["create", "--network", "n1", "--network-alias", "a1", "--ip", "10.0.0.5", "--link", "c:al", "busybox"],
  ["create", "--network", "n1", "--network", "n2", "--ip", "10.0.0.5", "busybox"],
  ["create", "--network-alias", "x", "busybox"],
  ["create", "--network", "n1", "--network", "host", "busybox"],
  [
    "create",
    "--network",
    "host",
    "--dns",
    "1.1.1.1",
    "--dns-search",
    "x",
    "--dns-option",
    "ndots:1",
    "busybox",
  ],
  ["create", "--add-host", "h:1.2.3.4", "--hostname", "hh", "--link", "c:al", "--ip", "10.0.0.5", "busybox"],
  ["create", "--network", "n1", "--mac-address", "92:d0:c6:0a:29:33", "busybox"],
  [
    "create",
    "-v",
    "/data",
    "-v",
    "vol:/v:ro",
    "-v",
    "/tmp:/h",
    "--volumes-from",
    "c1:ro",
    "--read-only",
    "busybox",
  ],
  [
    "create",
    "--mount",
    "type=volume,src=m,dst=/m,readonly",
    "--mount",
    "type=tmpfs,dst=/t,tmpfs-size=1m",
    "--tmpfs",
    "/run:size=1m",
    "busybox",
  ],
  [
    "create",
    "--restart",
    "on-failure:3",
    "-m",
    "512m",
    "--memory-swap",
    "1g",
    "--memory-reservation",
    "256m",
    "--cpus",
    "1.5",
    "--cpu-shares",
    "512",
    "--cpu-quota",
    "50000",
    "--cpu-period",
    "100000",
    "--cpuset-cpus",
    "0",
    "--pids-limit",
    "100",
    "--blkio-weight",
    "300",
    "--ulimit",
    "nofile=1024:2048",
    "--shm-size",
    "64m",
    "--oom-kill-disable",
    "busybox",
  ],
  [
    "create",
    "--init",
    "--health-cmd",
    "true",
    "--health-interval",
    "5s",
    "--health-timeout",
    "2s",
    "--health-retries",
    "3",
    "--health-start-period",
    "1s",
    "busybox",
  ],
  ["create", "--no-healthcheck", "busybox"],
  ["create", "--log-driver", "json-file", "--log-opt", "max-size=1m", "busybox"],
  [
    "create",
    "--cap-add",
    "net_admin",
    "--cap-drop",
    "ALL",
    "--privileged",
    "--security-opt",
    "no-new-privileges",
    "--sysctl",
    "net.ipv4.ip_forward=1",
    "--device",
    "/dev/null:/dev/xnull:r",
    "--group-add",
    "audio",
    "busybox",
  ],
  [
    "create",
    "--stop-signal",
    "SIGUSR1",
    "--stop-timeout",
    "5",
    "--platform",
    "linux/amd64",
    "--pull",
    "never",
    "busybox",
  ],
  [
    "create",
    "-it",
    "-e",
    "A=1",
    "-w",
    "/x",
    "-u",
    "1:2",
    "--entrypoint",
    "sh",
    "--name",
    "nm",
    "-l",
    "a=b",
    "busybox",
    "-c",
    "true",
  ],
  ["create", "--rm", "--restart", "always", "busybox"],
  ["create", "--restart", "bogus:1", "busybox"],
  ["create", "--memory", "1x", "busybox"],
  ["exec", "-d", "-e", "X=1", "-w", "/", "-u", "0", "--privileged", "c", "ls"],
  ["update", "-m", "64m", "--cpus", "1", "--pids-limit", "10", "--restart", "always", "c"],
  [
    "network",
    "create",
    "--subnet",
    "10.5.0.0/16",
    "--gateway",
    "10.5.0.1",
    "--ip-range",
    "10.5.1.0/24",
    "--internal",
    "--label",
    "a=b",
    "-o",
    "com.docker.network.bridge.name=br9",
    "--aux-address",
    "h=10.5.0.9",
    "nn",
  ],
  ["network", "create", "--gateway", "10.5.0.1", "nn"],
  ["network", "connect", "--ip", "10.5.0.7", "--alias", "x", "--alias", "y", "nn", "c"],
  ["network", "disconnect", "-f", "nn", "c"],
  ["volume", "create", "-d", "local", "-o", "type=tmpfs", "--label", "l=1", "vv"],
  ["volume", "rm", "-f", "vv"],
  ["rename", "c", "d"],
  ["pause", "c"],
  ["kill", "-s", "HUP", "c"],
];

describe("requests the wharf CLI sends match the docker CLI's", { skip: !existsSync(DOCKER) }, () => {
  for (const args of CASES) {
    test(args.join(" "), async () => {
      const d = await sent(DOCKER, args);
      const w = await sent(WHARF, args);
      assert.deepEqual(w.reqs, d.reqs);
      assert.equal(w.code, d.code);
    });
  }
});
