/**
 * CRI security contexts and pod options on real containers: users (numeric, named in the image, groups),
 * read-only rootfs, capabilities, no_new_privs, privileged, seccomp, masked paths, sysctls; hostNetwork
 * pods, published ports (CNI portmap), resource updates and log reopening.
 */
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type CriTestDaemon, startCriDaemon } from "../../helpers/cri.ts";
import { docker, freePort, importBusybox } from "../../helpers/daemon.ts";

let t: CriTestDaemon;
let pod: { podSandboxId: string; config: Record<string, unknown> };
let hostPort = 0;

interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

before(async () => {
  t = await startCriDaemon({ name: "cri-sec" });
  await importBusybox(t.d);
  // An image whose user is named: run_as_username resolves against its /etc/passwd.
  const built = await docker(t.d, ["build", "-q", "-t", "cri-named:1", "-"], {
    input: "FROM busybox\nRUN echo app:x:4321:4321::/:/bin/sh >> /etc/passwd\n",
  });
  assert.equal(built.code, 0, built.stderr);
  hostPort = await freePort();
  const config = {
    metadata: { name: "sec", uid: "uid-sec", namespace: "default", attempt: 0 },
    hostname: "sec",
    logDirectory: join(t.logDir, "sec"),
    portMappings: [{ protocol: 0, containerPort: 8080, hostPort, hostIp: "127.0.0.1" }],
    linux: { sysctls: { "net.ipv4.ip_unprivileged_port_start": "80" } },
  };
  const { podSandboxId } = await t.cri.runtime<{ podSandboxId: string }>("RunPodSandbox", { config });
  pod = { podSandboxId, config };
});

after(async () => {
  await t?.stop();
});

let n = 0;
async function run(
  sc: Record<string, unknown>,
  opts: { image?: string; args?: string[] } = {},
): Promise<string> {
  const name = `c${n++}`;
  const { containerId } = await t.cri.runtime<{ containerId: string }>("CreateContainer", {
    podSandboxId: pod.podSandboxId,
    sandboxConfig: pod.config,
    config: {
      metadata: { name },
      image: { image: opts.image ?? "busybox" },
      args: opts.args ?? ["sleep", "600"],
      logPath: `${name}.log`,
      linux: { securityContext: sc },
    },
  });
  await t.cri.runtime("StartContainer", { containerId });
  return containerId;
}

async function sh(containerId: string, script: string): Promise<ExecResult> {
  return t.cri.runtime<ExecResult>("ExecSync", { containerId, cmd: ["sh", "-c", script], timeout: 20 });
}

test("run_as_user, run_as_group, supplemental groups, and a user named in the image", async () => {
  const c = await run({ runAsUser: { value: 1234 }, runAsGroup: { value: 99 }, supplementalGroups: [7, 8] });
  assert.equal((await sh(c, "id -u; id -g; id -G")).stdout.toString(), "1234\n99\n99 7 8\n");
  const named = await run({ runAsUsername: "app" }, { image: "cri-named:1" });
  assert.equal((await sh(named, "id -u")).stdout.toString(), "4321\n");
});

test("run_as_group without a user is refused, as containerd refuses it", async () => {
  await assert.rejects(
    run({ runAsGroup: { value: 1002 } }),
    (e: { code: number; message: string }) => e.code === 3 && /specified without user/.test(e.message),
  );
});

test("readonly rootfs, capabilities dropped and added, no_new_privs, privileged", async () => {
  const ro = await run({ readonlyRootfs: true });
  const w = await sh(ro, "touch /x");
  assert.notEqual(w.exitCode, 0);
  assert.match(w.stderr.toString(), /Read-only file system/);
  const caps = await run({ capabilities: { dropCapabilities: ["CHOWN"], addCapabilities: ["NET_ADMIN"] } });
  const capEff = BigInt(
    `0x${/CapEff:\s+([0-9a-f]+)/.exec((await sh(caps, "cat /proc/self/status")).stdout.toString())?.[1]}`,
  );
  assert.equal(capEff & 1n, 0n, "CAP_CHOWN (0) dropped");
  assert.equal((capEff >> 12n) & 1n, 1n, "CAP_NET_ADMIN (12) added");
  const nnp = await run({ noNewPrivs: true });
  assert.match((await sh(nnp, "grep NoNewPrivs /proc/self/status")).stdout.toString(), /NoNewPrivs:\s+1/);
  const priv = await run({ privileged: true });
  const privEff = BigInt(
    `0x${/CapEff:\s+([0-9a-f]+)/.exec((await sh(priv, "cat /proc/self/status")).stdout.toString())?.[1]}`,
  );
  assert.equal((privEff >> 21n) & 1n, 1n, "CAP_SYS_ADMIN (21) held");
  assert.match((await sh(priv, "grep Seccomp: /proc/self/status")).stdout.toString(), /Seccomp:\s+0/);
});

test("seccomp: runtime/default filters, unconfined does not; masked paths as kubelet sends them", async () => {
  const filtered = await run({ seccomp: { profileType: 0 } });
  assert.match((await sh(filtered, "grep Seccomp: /proc/self/status")).stdout.toString(), /Seccomp:\s+2/);
  const open = await run({ seccomp: { profileType: 1 } });
  assert.match((await sh(open, "grep Seccomp: /proc/self/status")).stdout.toString(), /Seccomp:\s+0/);
  const masked = await run({ maskedPaths: ["/etc/hostname"], readonlyPaths: ["/tmp"] });
  assert.equal((await sh(masked, "cat /etc/hostname | wc -c")).stdout.toString().trim(), "0");
  assert.notEqual((await sh(masked, "touch /tmp/x")).exitCode, 0);
});

test("seccomp Localhost: the profile file kubelet names is the container's filter", async () => {
  const profile = join(t.d.dir, "no-mkdir.json");
  await writeFile(
    profile,
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
    }),
  );
  const c = await run({ seccomp: { profileType: 2, localhostRef: profile } });
  const r = await sh(c, "mkdir /tmp/x");
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr.toString(), /Operation not permitted/);
  assert.equal((await sh(c, "touch /tmp/y && echo ok")).stdout.toString(), "ok\n");
  await assert.rejects(
    run({ seccomp: { profileType: 2, localhostRef: join(t.d.dir, "none.json") } }),
    (e: { code: number }) => e.code === 3,
  );
});

test("pod sysctls apply in the pod's namespaces", async () => {
  const c = await run({});
  assert.equal((await sh(c, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start")).stdout.toString(), "80\n");
});

test("a published port reaches the pod through CNI portmap", async () => {
  await run({}, { args: ["httpd", "-f", "-p", "8080", "-h", "/etc"] });
  const body = await new Promise<string>((resolve, reject) => {
    const tryOnce = (left: number) => {
      const req = request({ host: "127.0.0.1", port: hostPort, path: "/hostname" }, (res) => {
        let b = "";
        res.on("data", (c: Buffer) => {
          b += c.toString();
        });
        res.on("end", () => resolve(b));
      });
      req.on("error", (e) => (left > 0 ? setTimeout(() => tryOnce(left - 1), 100) : reject(e)));
      req.end();
    };
    tryOnce(50);
  });
  assert.equal(body, "sec\n");
});

test("UpdateContainerResources changes the cgroup; ReopenContainerLog starts a new file", async () => {
  const c = await run({}, { args: ["sh", "-c", "while true; do echo line; sleep 0.2; done"] });
  await t.cri.runtime("UpdateContainerResources", {
    containerId: c,
    linux: { memoryLimitInBytes: 64 * 1024 * 1024, cpuShares: 512 },
  });
  const ins = JSON.parse((await docker(t.d, ["inspect", c])).stdout)[0];
  assert.equal(ins.HostConfig.Memory, 64 * 1024 * 1024);
  const st = await t.cri.runtime<{
    status: { logPath: string; resources: { linux: { memoryLimitInBytes: number } } };
  }>("ContainerStatus", { containerId: c });
  assert.equal(Number(st.status.resources.linux.memoryLimitInBytes), 64 * 1024 * 1024);
  // kubelet's rotation: rename the file, then ask for a new one.
  const path = st.status.logPath;
  await rename(path, `${path}.1`);
  await t.cri.runtime("ReopenContainerLog", { containerId: c });
  const deadline = Date.now() + 10_000;
  let text = "";
  while (!text.includes("stdout F line") && Date.now() < deadline) {
    text = await readFile(path, "utf8").catch(() => "");
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, /stdout F line/);
});

test("a hostNetwork pod shares the host's network and name", async () => {
  const config = {
    metadata: { name: "hostnet", uid: "uid-hostnet", namespace: "default", attempt: 0 },
    hostname: "ignored",
    logDirectory: join(t.logDir, "hostnet"),
    linux: { securityContext: { namespaceOptions: { network: 2 } } },
  };
  const { podSandboxId } = await t.cri.runtime<{ podSandboxId: string }>("RunPodSandbox", { config });
  const { containerId } = await t.cri.runtime<{ containerId: string }>("CreateContainer", {
    podSandboxId,
    sandboxConfig: config,
    config: {
      metadata: { name: "h" },
      image: { image: "busybox" },
      args: ["sleep", "600"],
      logPath: "h.log",
    },
  });
  await t.cri.runtime("StartContainer", { containerId });
  const r = await sh(
    containerId,
    `hostname; ip -o link show ${t.cniBridge} >/dev/null && echo sees-host-bridge`,
  );
  assert.equal(r.stdout.toString(), `${hostname()}\nsees-host-bridge\n`);
  const st = await t.cri.runtime<{ status: { network: { ip: string } } }>("PodSandboxStatus", {
    podSandboxId,
  });
  assert.equal(st.status.network.ip, "");
  await t.cri.runtime("RemovePodSandbox", { podSandboxId });
});
