/**
 * The CRI RuntimeService over a real daemon: a pod of two containers sharing its network (localhost), its
 * hostname and DNS config; ExecSync; logs in the CRI format where kubelet reads them; stats; `docker ps`
 * showing pods as cri-dockerd's; clean-up on RemovePodSandbox; pods surviving a daemon restart.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { CriCallError } from "../../../src/cri/index.ts";
import { type CriTestDaemon, startCriDaemon } from "../../helpers/cri.ts";
import { docker, importBusybox } from "../../helpers/daemon.ts";

const run = promisify(execFile);

let t: CriTestDaemon;

before(async () => {
  t = await startCriDaemon({ name: "cri-pods" });
  await importBusybox(t.d);
});

after(async () => {
  await t?.stop();
});

interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

function podConfig(name: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: "default", attempt: 0 },
    hostname: `${name}-host`,
    logDirectory: join(t.logDir, name),
    dnsConfig: { servers: ["10.0.0.10"], searches: ["svc.cluster.local"], options: ["ndots:5"] },
    labels: { app: name },
    annotations: { "example.com/note": "hi" },
    linux: {},
    ...extra,
  };
}

async function runPod(name: string, extra: Record<string, unknown> = {}) {
  const config = podConfig(name, extra);
  const { podSandboxId } = await t.cri.runtime<{ podSandboxId: string }>("RunPodSandbox", { config });
  return { podSandboxId, config };
}

async function startContainer(
  pod: { podSandboxId: string; config: ReturnType<typeof podConfig> },
  name: string,
  script: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const { containerId } = await t.cri.runtime<{ containerId: string }>("CreateContainer", {
    podSandboxId: pod.podSandboxId,
    sandboxConfig: pod.config,
    config: {
      metadata: { name },
      image: { image: "busybox" },
      command: ["/bin/sh", "-c"],
      args: [script],
      logPath: `${name}/0.log`,
      labels: { c: name },
      ...extra,
    },
  });
  await t.cri.runtime("StartContainer", { containerId });
  return containerId;
}

function execSync(containerId: string, cmd: string[]): Promise<ExecResult> {
  return t.cri.runtime<ExecResult>("ExecSync", { containerId, cmd, timeout: 20 });
}

/** Polls `fn` until it returns a value (the CRI has no events in v0.29's served set). */
async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("Version, Status, RuntimeConfig; unserved methods are UNIMPLEMENTED", async () => {
  const v = await t.cri.runtime<Record<string, string>>("Version", { version: "v1" });
  assert.equal(v.runtimeName, "wharf");
  assert.equal(v.runtimeApiVersion, "v1");
  const s = await t.cri.runtime<{ status: { conditions: { type: string; status: boolean }[] } }>(
    "Status",
    {},
  );
  assert.deepEqual(
    s.status.conditions.map((c) => [c.type, c.status]),
    [
      ["RuntimeReady", true],
      ["NetworkReady", true],
    ],
  );
  assert.deepEqual(await t.cri.runtime("RuntimeConfig", {}), { linux: { cgroupDriver: 1 } });
  // wharf wrote its default network list into the empty conf dir.
  const conf = JSON.parse(await readFile(join(t.cniConfDir, "10-wharf.conflist"), "utf8"));
  assert.equal(conf.plugins[0].bridge, t.cniBridge);
  await assert.rejects(
    t.cri.raw("/runtime.v1.RuntimeService/CheckpointContainer"),
    (e: CriCallError) => e.code === 12,
  );
});

test("a pod of two containers: shared localhost, hostname, DNS, CRI logs, stats, docker ps", async () => {
  const pod = await runPod("web");
  const status = await t.cri.runtime<{ status: { state: number; network: { ip: string } } }>(
    "PodSandboxStatus",
    {
      podSandboxId: pod.podSandboxId,
    },
  );
  assert.equal(status.status.state, 0);
  const prefix = t.cniSubnet.split(".").slice(0, 3).join(".");
  assert.ok(status.status.network.ip.startsWith(`${prefix}.`), status.status.network.ip);

  const server = await startContainer(
    pod,
    "server",
    "echo started; echo oops >&2; exec httpd -f -p 8080 -h /etc",
  );
  const client = await startContainer(pod, "client", "exec sleep 600");
  // The client reaches the server on the pod's loopback.
  const got = await eventually(async () => {
    const r = await execSync(client, ["wget", "-qO-", "http://127.0.0.1:8080/hostname"]);
    return r.exitCode === 0 ? r.stdout.toString() : undefined;
  }, "the server to answer on localhost");
  assert.equal(got.trim(), "web-host");
  const names = await execSync(client, ["sh", "-c", "hostname; cat /etc/resolv.conf"]);
  assert.match(names.stdout.toString(), /^web-host\n/);
  assert.match(names.stdout.toString(), /nameserver 10\.0\.0\.10/);
  assert.match(names.stdout.toString(), /search svc\.cluster\.local/);
  assert.match(names.stdout.toString(), /options ndots:5/);
  // The pod shares one PID namespace (kubelet's shareProcessNamespace): the pause process is its PID 1.
  const ps1 = await execSync(client, ["ps", "-o", "pid,args"]);
  assert.match(ps1.stdout.toString(), /^\s*1 \/pause -P$/m);
  assert.match(ps1.stdout.toString(), /httpd -f -p 8080/);
  const failing = await execSync(client, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(
    [failing.stdout.toString(), failing.stderr.toString(), failing.exitCode],
    ["out\n", "err\n", 3],
  );

  // Past its timeout the exec fails and its process is gone, as with containerd.
  await assert.rejects(
    t.cri.runtime("ExecSync", { containerId: client, cmd: ["sleep", "4321"], timeout: 1 }),
    (e: CriCallError) => e.code === 4,
  );
  const after = await execSync(client, ["ps", "-o", "args"]);
  assert.doesNotMatch(after.stdout.toString(), /sleep 4321/);

  // kubelet's log path, in the CRI format (conmon's k8s-file).
  const logPath = join(pod.config.logDirectory, "server/0.log");
  const lines = await eventually(async () => {
    const text = await readFile(logPath, "utf8").catch(() => "");
    return text.includes("oops") ? text.trim().split("\n") : undefined;
  }, "the server's log");
  assert.match(lines[0] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F started$/);
  assert.match(lines[1] ?? "", / stderr F oops$/);
  const cs = await t.cri.runtime<{
    status: { state: number; logPath: string; labels: Record<string, string> };
  }>("ContainerStatus", { containerId: server });
  assert.equal(cs.status.state, 1);
  assert.equal(cs.status.logPath, logPath);
  assert.deepEqual(cs.status.labels, { c: "server" });

  const list = await t.cri.runtime<{ containers: { id: string }[] }>("ListContainers", {
    filter: { podSandboxId: pod.podSandboxId, labelSelector: { c: "client" } },
  });
  assert.deepEqual(
    list.containers.map((c) => c.id),
    [client],
  );

  const stats = await t.cri.runtime<{
    stats: {
      cpu: { usageCoreNanoSeconds: { value: number } };
      memory: { workingSetBytes: { value: number } };
    };
  }>("ContainerStats", { containerId: server });
  assert.ok(stats.stats.cpu.usageCoreNanoSeconds.value > 0);
  assert.ok(stats.stats.memory.workingSetBytes.value > 0);
  const podStats = await t.cri.runtime<{ stats: { linux: { containers: unknown[]; network: unknown } } }>(
    "PodSandboxStats",
    { podSandboxId: pod.podSandboxId },
  );
  assert.equal(podStats.stats.linux.containers.length, 2);
  assert.ok(podStats.stats.linux.network);
  // The list forms, filtered as kubelet's summary API and crictl stats ask for them.
  const listed = await t.cri.runtime<{
    stats: { attributes: { id: string; labels: Record<string, string> } }[];
  }>("ListContainerStats", { filter: { podSandboxId: pod.podSandboxId } });
  assert.deepEqual(listed.stats.map((s) => s.attributes.id).sort(), [client, server].sort());
  const byLabel = await t.cri.runtime<{ stats: { attributes: { id: string } }[] }>("ListContainerStats", {
    filter: { labelSelector: { c: "server" } },
  });
  assert.deepEqual(
    byLabel.stats.map((s) => s.attributes.id),
    [server],
  );
  const podList = await t.cri.runtime<{
    stats: { attributes: { id: string }; linux: { containers: unknown[] } }[];
  }>("ListPodSandboxStats", { filter: { id: pod.podSandboxId } });
  assert.equal(podList.stats.length, 1);
  assert.equal(podList.stats[0]?.attributes.id, pod.podSandboxId);
  assert.equal(podList.stats[0]?.linux.containers.length, 2);

  // docker ps shows the pod as dockerd shows cri-dockerd's: k8s_ names and kubelet's labels.
  const ps = await docker(t.d, ["ps", "--format", '{{.Names}} {{.Label "io.kubernetes.docker.type"}}']);
  assert.match(ps.stdout, /^k8s_POD_web_default_uid-web_0 podsandbox$/m);
  assert.match(ps.stdout, /^k8s_server_web_default_uid-web_0 container$/m);

  await t.cri.runtime("StopContainer", { containerId: server, timeout: 2 });
  const stopped = await t.cri.runtime<{
    status: { state: number; reason: string; exitCode: number; finishedAt: number };
  }>("ContainerStatus", { containerId: server });
  assert.equal(stopped.status.state, 2);
  assert.ok(stopped.status.finishedAt > 0);
  assert.equal(stopped.status.reason, stopped.status.exitCode === 0 ? "Completed" : "Error");
});

test("NamespaceOption CONTAINER gives a container its own PID namespace; NODE the host's", async () => {
  const pod = await runPod("pids");
  const own = await startContainer(pod, "own", "exec sleep 600", {
    linux: { securityContext: { namespaceOptions: { pid: 1 } } },
  });
  const ps = await execSync(own, ["ps", "-o", "pid,args"]);
  assert.match(ps.stdout.toString(), /^\s*1 sleep 600$/m);
  assert.doesNotMatch(ps.stdout.toString(), /pause/);
  const host = await startContainer(pod, "host", "exec sleep 600", {
    linux: { securityContext: { namespaceOptions: { pid: 2 } } },
  });
  const hostPs = await execSync(host, ["sh", "-c", `test -d /proc/${process.pid} && echo seen`]);
  assert.equal(hostPs.stdout.toString(), "seen\n");
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
});

test("RemovePodSandbox removes the containers, the network namespace and the pod's CNI state", async () => {
  const pod = await runPod("gone");
  const c = await startContainer(pod, "main", "exec sleep 600");
  const ins = JSON.parse((await docker(t.d, ["inspect", pod.podSandboxId])).stdout)[0];
  const netns: string = ins.NetworkSettings.SandboxKey;
  assert.ok(existsSync(netns));
  const { status } = await t.cri.runtime<{ status: { network: { ip: string } } }>("PodSandboxStatus", {
    podSandboxId: pod.podSandboxId,
  });
  await t.cri.runtime("StopPodSandbox", { podSandboxId: pod.podSandboxId });
  const stopped = await t.cri.runtime<{ status: { state: number } }>("PodSandboxStatus", {
    podSandboxId: pod.podSandboxId,
  });
  assert.equal(stopped.status.state, 1);
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
  // A second remove is no error, as in containerd.
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
  await assert.rejects(
    t.cri.runtime("ContainerStatus", { containerId: c }),
    (e: CriCallError) => e.code === 5,
  );
  const ps = await docker(t.d, ["ps", "-a", "-q", "--no-trunc"]);
  assert.ok(!ps.stdout.includes(c) && !ps.stdout.includes(pod.podSandboxId));
  assert.ok(!existsSync(netns));
  const nat = (await run("iptables-save", ["-t", "nat"])).stdout;
  assert.ok(!nat.includes(pod.podSandboxId), "the pod's CNI NAT rules are gone");
  const ipam = join(t.d.dataRoot, "cri/ipam/wharf-pods", status.network.ip);
  assert.ok(!existsSync(ipam), "host-local released the pod IP");
});

test("a pod whose pause process died is still cleaned up: CNI DEL gets its namespace, NAT rules go", async () => {
  const pod = await runPod("crashed");
  const ins = JSON.parse((await docker(t.d, ["inspect", pod.podSandboxId])).stdout)[0];
  process.kill(ins.State.Pid, "SIGKILL");
  await eventually(async () => {
    const s = await t.cri.runtime<{ status: { state: number } }>("PodSandboxStatus", {
      podSandboxId: pod.podSandboxId,
    });
    return s.status.state === 1 ? true : undefined;
  }, "the sandbox to be NOTREADY");
  assert.ok((await run("iptables-save", ["-t", "nat"])).stdout.includes(pod.podSandboxId));
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
  const nat = (await run("iptables-save", ["-t", "nat"])).stdout;
  assert.ok(!nat.includes(pod.podSandboxId), "the pod's NAT rules are gone");
  assert.ok(!existsSync(join(t.d.dataRoot, "cri/netns", pod.podSandboxId)));
});

test("a container that cannot start: StartContainer fails, its status is EXITED with containerd's StartError", async () => {
  const pod = await runPod("broken");
  const { containerId } = await t.cri.runtime<{ containerId: string }>("CreateContainer", {
    podSandboxId: pod.podSandboxId,
    sandboxConfig: pod.config,
    config: {
      metadata: { name: "nope" },
      image: { image: "busybox" },
      command: ["/nonexistent"],
      logPath: "nope.log",
    },
  });
  await assert.rejects(t.cri.runtime("StartContainer", { containerId }), (e: CriCallError) => e.code === 2);
  const st = await t.cri.runtime<{
    status: { state: number; reason: string; exitCode: number; message: string; finishedAt: number };
  }>("ContainerStatus", { containerId });
  assert.deepEqual([st.status.state, st.status.reason, st.status.exitCode], [2, "StartError", 128]);
  assert.match(st.status.message, /nonexistent/);
  assert.ok(st.status.finishedAt > 0);
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
});

test("ListPodSandbox filters by state and labels; unknown IDs are NotFound", async () => {
  const a = await runPod("list-a");
  const b = await runPod("list-b");
  await t.cri.runtime("StopPodSandbox", { podSandboxId: b.podSandboxId });
  const ready = await t.cri.runtime<{ items: { id: string }[] }>("ListPodSandbox", {
    filter: { state: { state: 0 }, labelSelector: { app: "list-a" } },
  });
  assert.deepEqual(
    ready.items.map((p) => p.id),
    [a.podSandboxId],
  );
  const byPrefix = await t.cri.runtime<{ items: { id: string }[] }>("ListPodSandbox", {
    filter: { id: b.podSandboxId.slice(0, 12) },
  });
  assert.deepEqual(
    byPrefix.items.map((p) => p.id),
    [b.podSandboxId],
  );
  await assert.rejects(
    t.cri.runtime("PodSandboxStatus", { podSandboxId: "0123456789ab" }),
    (e: CriCallError) => e.code === 5,
  );
  for (const p of [a, b]) await t.cri.runtime("RemovePodSandbox", { podSandboxId: p.podSandboxId });
});

test("pods keep running across a daemon restart, with their IP and network clean-up", async () => {
  const pod = await runPod("survivor");
  const c = await startContainer(pod, "main", "exec sleep 600");
  const before = await t.cri.runtime<{ status: { network: { ip: string } } }>("PodSandboxStatus", {
    podSandboxId: pod.podSandboxId,
  });
  await t.restart();
  const after = await t.cri.runtime<{ status: { state: number; network: { ip: string } } }>(
    "PodSandboxStatus",
    {
      podSandboxId: pod.podSandboxId,
    },
  );
  assert.equal(after.status.state, 0);
  assert.equal(after.status.network.ip, before.status.network.ip);
  const r = await execSync(c, ["hostname"]);
  assert.equal(r.stdout.toString(), "survivor-host\n");
  await t.cri.runtime("RemovePodSandbox", { podSandboxId: pod.podSandboxId });
  const nat = (await run("iptables-save", ["-t", "nat"])).stdout;
  assert.ok(!nat.includes(pod.podSandboxId));
});
