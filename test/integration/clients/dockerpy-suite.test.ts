/**
 * What docker-py's own integration suite (tests/integration of docker/docker-py 6.1.3) found wharf doing
 * unlike dockerd 20.10, each behaviour checked again here through docker-py itself (python3's `docker`):
 * one short Python script per test, whose printed JSON the test checks.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
let work: string;

before(async () => {
  d = await startDaemon({ name: "dockerpy-suite" });
  await importBusybox(d);
  work = await mkdtemp(join(tmpdir(), "wharf-dockerpy-suite-"));
});
after(async () => {
  await d?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs `body` with `c = docker.DockerClient(...)` (API `version`) and `api = c.api`; returns its last JSON line. */
async function py<T>(body: string, version = "1.41"): Promise<T> {
  const script = [
    "import docker, json, sys, io, os",
    `c = docker.DockerClient(base_url=${JSON.stringify(d.host)}, version=${JSON.stringify(version)}, timeout=120)`,
    "api = c.api",
    body,
  ].join("\n");
  const r = await exec("python3", ["-c", script], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, `python failed:\n${r.stderr}\ndaemon:\n${d.output().slice(-2000)}`);
  const last = r.stdout.trim().split("\n").at(-1) ?? "null";
  return JSON.parse(last) as T;
}

describe("docker-py suite: containers and images", () => {
  test("commit: Container and ContainerConfig before API 1.45, Container gone at 1.47", async () => {
    const old = await py<{
      container: boolean;
      image: string;
      parent: boolean;
      cmd: string[];
      ports: string[];
    }>(`
ctr = api.create_container("busybox", ["touch", "/test"])
api.start(ctr); api.wait(ctr)
img = api.commit(ctr["Id"], changes=["EXPOSE 8000", 'CMD ["sh"]'])
i = api.inspect_image(img["Id"])
bb = api.inspect_image("busybox")["Id"]
print(json.dumps({"container": i["Container"].startswith(ctr["Id"]), "image": i["ContainerConfig"]["Image"],
  "parent": i["Parent"] == bb, "cmd": i["Config"]["Cmd"], "ports": list(i["Config"]["ExposedPorts"])}))`);
    assert.deepEqual(old, {
      container: true,
      image: "busybox",
      parent: true,
      cmd: ["sh"],
      ports: ["8000/tcp"],
    });
    const now = await py<{ has: boolean }>(
      `
ctr = api.create_container("busybox", ["true"])
img = api.commit(ctr["Id"])
print(json.dumps({"has": "Container" in api.inspect_image(img["Id"])}))`,
      "1.47",
    );
    assert.equal(now.has, false);
  });

  test("commit of a container that exits while the commit pauses it still commits", async () => {
    // The container's own exit races the pause; dockerd ignores a pause that fails.
    const r = await py<{ ok: number }>(`
ok = 0
for i in range(8):
    ctr = api.create_container("busybox", ["sh", "-c", "sleep 0.0%d" % i])
    api.start(ctr)
    api.commit(ctr["Id"], pause=True)
    ok += 1
print(json.dumps({"ok": ok}))`);
    assert.equal(r.ok, 8);
  });

  test("exec of a missing binary exits 126, as dockerd records it", async () => {
    const r = await py<{ code: number }>(`
ctr = c.containers.run("busybox", "sleep 60", detach=True)
code = ctr.exec_run("docker ps")[0]
ctr.remove(force=True)
print(json.dumps({"code": code}))`);
    assert.equal(r.code, 126);
  });

  test("attach(stream=False, logs=True) gives the log of an exited container and ends", async () => {
    const r = await py<{ out: string }>(`
ctr = api.create_container("busybox", "echo hello")
api.start(ctr); api.wait(ctr, condition="not-running")
print(json.dumps({"out": api.attach(ctr, stream=False, logs=True).decode()}))`);
    assert.equal(r.out, "hello\n");
  });

  test("container prune counts the removed writable layers as reclaimed", async () => {
    const r = await py<{ gone: boolean; space: number; kept: boolean }>(`
a = api.create_container("busybox", ["sh", "-c", "echo hello > /data.txt"])
b = api.create_container("busybox", ["sleep", "9999"])
api.start(a); api.start(b); api.wait(a)
res = api.prune_containers()
api.remove_container(b, force=True)
print(json.dumps({"gone": a["Id"] in res["ContainersDeleted"], "space": res["SpaceReclaimed"], "kept": b["Id"] not in res["ContainersDeleted"]}))`);
    assert.ok(r.gone && r.kept);
    assert.ok(r.space > 0, `SpaceReclaimed ${r.space}`);
  });

  test("load of bytes that are no image: 200 with the error in the stream (ImageLoadError)", async () => {
    const r = await py<{ err: string }>(`
try:
    c.images.load(b"abc")
    print(json.dumps({"err": ""}))
except docker.errors.ImageLoadError as e:
    print(json.dumps({"err": str(e)}))`);
    assert.match(r.err, /Error processing tar file/);
  });

  test("cpu_rt_period/cpu_rt_runtime (sent as CPURealtime*) land in HostConfig's CpuRealtime* fields", async () => {
    const r = await py<{ period: number; runtime: number }>(`
ctr = api.create_container("busybox", "true", host_config=api.create_host_config(cpu_rt_period=1000, cpu_rt_runtime=500))
h = api.inspect_container(ctr)["HostConfig"]
api.remove_container(ctr)
print(json.dumps({"period": h.get("CpuRealtimePeriod"), "runtime": h.get("CpuRealtimeRuntime")}))`);
    assert.deepEqual(r, { period: 1000, runtime: 500 });
  });

  test("an unknown log driver is refused with dockerd's text", async () => {
    const r = await py<{ msg: string }>(`
try:
    api.create_container("busybox", ["true"], host_config=api.create_host_config(log_config=docker.types.LogConfig(type="asdf", config={})))
    print(json.dumps({"msg": ""}))
except docker.errors.APIError as e:
    print(json.dumps({"msg": e.explanation}))`);
    assert.equal(r.msg, "logger: no log driver named 'asdf' is registered");
  });
});

describe("docker-py suite: networks", () => {
  test("MAC, link-local IPs and driver options of endpoints show in inspect; IPAM Options null unless given", async () => {
    const r = await py<{ mac: string; ll: unknown; opts: unknown; ipamOpts: unknown }>(`
net = api.create_network("pysuite-net", driver="bridge")
ctr = api.create_container("busybox", "top")
api.connect_container_to_network(ctr, "pysuite-net", mac_address="02:42:ac:11:00:02")
mac = api.inspect_container(ctr)["NetworkSettings"]["Networks"]["pysuite-net"]["MacAddress"]
api.remove_container(ctr, force=True)
b = api.create_container("busybox", "top",
  networking_config=api.create_networking_config({"bridge": api.create_endpoint_config(link_local_ips=["169.254.8.8"], driver_opt={"com.docker-py.setting": "on"})}),
  host_config=api.create_host_config(network_mode="bridge"))
api.start(b)
ep = api.inspect_container(b)["NetworkSettings"]["Networks"]["bridge"]
api.remove_container(b, force=True)
ipam = api.inspect_network(net["Id"])["IPAM"]
api.remove_network(net["Id"])
print(json.dumps({"mac": mac, "ll": ep["IPAMConfig"]["LinkLocalIPs"], "opts": ep["DriverOpts"], "ipamOpts": ipam["Options"]}))`);
    assert.deepEqual(r, {
      mac: "02:42:ac:11:00:02",
      ll: ["169.254.8.8"],
      opts: { "com.docker-py.setting": "on" },
      ipamOpts: null,
    });
  });

  test("before API 1.44 a second network of a taken name is made unless CheckDuplicate is true", async () => {
    // dockerd 20.10 (docker-py's test_create_check_duplicate): docker-py leaves CheckDuplicate out unless asked.
    const r = await py<{
      refused: number;
      warning: string;
      ambiguous: [number, string];
      first: string;
      newer: number;
    }>(`
a = api.create_network("pysuite-dup")
try:
    api.create_network("pysuite-dup", check_duplicate=True); refused = 0
except docker.errors.APIError as e:
    refused = e.status_code
b = api.create_network("pysuite-dup", check_duplicate=False)
try:
    api.inspect_network("pysuite-dup"); ambiguous = [200, ""]
except docker.errors.APIError as e:
    ambiguous = [e.status_code, e.explanation]
new = docker.APIClient(base_url=${JSON.stringify(d.host)}, version="1.44")
try:
    new.create_network("pysuite-dup", check_duplicate=False); newer = 201
except docker.errors.APIError as e:
    newer = e.status_code
first = api.inspect_network(a["Id"])["Name"]
api.remove_network(a["Id"]); api.remove_network(b["Id"])
print(json.dumps({"refused": refused, "warning": b["Warning"].replace(a["Id"], "ID"), "ambiguous": ambiguous,
  "first": first, "newer": newer}))`);
    assert.deepEqual(r, {
      refused: 409,
      warning: "Network with name pysuite-dup (id : ID) already exists",
      ambiguous: [400, "2 matches found based on name: network pysuite-dup is ambiguous"],
      first: "pysuite-dup",
      newer: 409,
    });
  });
});

describe("docker-py suite: build", () => {
  test(".dockerignore naming itself and the Dockerfile drops both; ! exceptions under ignored dirs stay", async () => {
    const dir = join(work, "ignore");
    await exec("mkdir", ["-p", join(dir, "ignored/subdir")]);
    await writeFile(join(dir, "Dockerfile"), "FROM busybox\nADD . /test\n");
    await writeFile(
      join(dir, ".dockerignore"),
      "ignored\nDockerfile\n.dockerignore\n!ignored/subdir/excepted-file\n",
    );
    await writeFile(join(dir, "not-ignored"), "x");
    await writeFile(join(dir, "ignored/subdir/file"), "x");
    await writeFile(join(dir, "ignored/subdir/excepted-file"), "x");
    const r = await py<{ files: string[] }>(`
for _ in api.build(path=${JSON.stringify(dir)}, tag="pysuite-ignore"): pass
ctr = api.create_container("pysuite-ignore", ["find", "/test", "-type", "f"])
api.start(ctr); api.wait(ctr)
print(json.dumps({"files": sorted(filter(None, api.logs(ctr).decode().split("\\n")))}))`);
    assert.deepEqual(r.files, ["/test/ignored/subdir/excepted-file", "/test/not-ignored"]);
  });

  test("a Dockerfile from outside the context does not land in the image", async () => {
    const ctxDir = join(work, "outside-ctx");
    const dfDir = join(work, "outside-df");
    await exec("mkdir", ["-p", ctxDir, dfDir]);
    await writeFile(join(ctxDir, "file.txt"), "hello world");
    await writeFile(join(ctxDir, ".dockerignore"), ".dockerignore\n");
    await writeFile(join(dfDir, "Dockerfile"), "FROM busybox\nCOPY . /src\nWORKDIR /src\n");
    const r = await py<{ ls: string[] }>(`
for _ in api.build(path=${JSON.stringify(ctxDir)}, dockerfile=${JSON.stringify(join(dfDir, "Dockerfile"))}, tag="pysuite-outside"): pass
ctr = api.create_container("pysuite-outside", "ls -a")
api.start(ctr); api.wait(ctr)
print(json.dumps({"ls": sorted(api.logs(ctr).decode().split())}))`);
    assert.deepEqual(r.ls, [".", "..", "file.txt"]);
  });

  test("a RUN step's stderr comes in red, extra_hosts as docker-py sends them reach /etc/hosts", async () => {
    const r = await py<{ red: boolean; hosts: string }>(`
red = False
df = b'FROM busybox\\nRUN sh -c ">&2 echo oops"\\n'
for ch in api.build(fileobj=io.BytesIO(df), decode=True, nocache=True):
    if ch.get("stream") == "\\x1b[91moops\\n\\x1b[0m": red = True
df = b"FROM busybox\\nRUN ping -c1 hello.world.test\\nRUN cp /etc/hosts /hosts-file\\n"
for ch in api.build(fileobj=io.BytesIO(df), tag="pysuite-hosts", decode=True, extra_hosts={"hello.world.test": "127.0.0.1", "extrahost.local.test": "127.0.0.1"}):
    if "errorDetail" in ch: raise SystemExit(str(ch))
ctr = api.create_container("pysuite-hosts", "cat /hosts-file")
api.start(ctr); api.wait(ctr)
print(json.dumps({"red": red, "hosts": api.logs(ctr).decode()}))`);
    assert.ok(r.red, "stderr wrapped in ESC[91m ... ESC[0m");
    assert.match(r.hosts, /127\.0\.0\.1\thello\.world\.test/);
    assert.match(r.hosts, /127\.0\.0\.1\textrahost\.local\.test/);
  });

  test("cache_from limits the local cache to those images' ancestry; info counts every image", async () => {
    const r = await py<{ withSource: number; without: number; images: boolean }>(`
df = b"FROM busybox\\nENV FOO=bar\\nRUN touch baz\\nRUN touch bax\\n"
for _ in api.build(fileobj=io.BytesIO(df), tag="pysuite-b1"): pass
def hits(**kw):
    n = 0
    for ch in api.build(fileobj=io.BytesIO(df), tag="pysuite-b2", decode=True, **kw):
        if "Using cache" in ch.get("stream", ""): n += 1
    return n
a = hits(cache_from=["pysuite-b1"])
api.remove_image("pysuite-b2")
b = hits(cache_from=["nosuchtag"])
ids = {i["Id"] for i in api.images(all=True)}
print(json.dumps({"withSource": a, "without": b, "images": len(ids) == api.info()["Images"]}))`);
    assert.deepEqual(r, { withSource: 3, without: 0, images: true });
  });
});
