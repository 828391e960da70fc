import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Processes, RunOptions } from "../host/index.ts";
import { CniRunner, loadNetworkList } from "./cni.ts";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cni-unit-"));
  for (const p of ["bridge", "portmap"]) {
    await writeFile(join(dir, p), "#!/bin/sh\n");
    await chmod(join(dir, p), 0o755);
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function opts(confDir: string) {
  return { confDir, binDirs: [dir], bridge: "cnitest0", subnet: "10.77.0.0/24", ipamDir: join(dir, "ipam") };
}

test("an empty conf dir gets wharf's default network; the first file by name wins", async () => {
  const conf = join(dir, "net.d");
  const list = await loadNetworkList(opts(conf));
  assert.equal(list.name, "wharf-pods");
  assert.deepEqual(
    list.plugins.map((p) => p.type),
    ["bridge", "portmap"],
  );
  const written = JSON.parse(await readFile(join(conf, "10-wharf.conflist"), "utf8"));
  assert.equal(written.plugins[0].bridge, "cnitest0");
  assert.deepEqual(written.plugins[0].ipam.ranges, [[{ subnet: "10.77.0.0/24" }]]);
  await writeFile(
    join(conf, "05-mine.conf"),
    JSON.stringify({ cniVersion: "0.4.0", name: "mine", type: "bridge" }),
  );
  assert.equal((await loadNetworkList(opts(conf))).name, "mine");
});

test("ADD runs the plugins in order with the previous result and CNI's variables; DEL in reverse", async () => {
  const calls: { file: string; env: Record<string, string>; conf: Record<string, unknown> }[] = [];
  const proc = {
    run: async (file: string, _args: readonly string[], o?: RunOptions) => {
      const conf = JSON.parse(o?.input ?? "{}") as Record<string, unknown>;
      calls.push({ file, env: o?.env ?? {}, conf });
      return JSON.stringify({ cniVersion: "1.0.0", ips: [{ address: "10.77.0.5/24" }], from: file });
    },
  } as unknown as Processes;
  const runner = new CniRunner(proc, opts(join(dir, "net2.d")));
  const ports = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
  const { result } = await runner.add({ id: "abc", netns: "/run/ns/abc", ports });
  assert.deepEqual(
    calls.map((c) => c.file),
    [join(dir, "bridge"), join(dir, "portmap")],
  );
  assert.equal(calls[0]?.env.CNI_COMMAND, "ADD");
  assert.equal(calls[0]?.env.CNI_NETNS, "/run/ns/abc");
  assert.equal(calls[0]?.env.CNI_IFNAME, "eth0");
  assert.equal(calls[0]?.conf.prevResult, undefined);
  assert.equal((calls[1]?.conf.prevResult as { from?: string } | undefined)?.from, join(dir, "bridge"));
  assert.deepEqual(calls[1]?.conf.runtimeConfig, { portMappings: ports });
  assert.equal(calls[1]?.conf.capabilities, undefined);
  calls.length = 0;
  await runner.del({ id: "abc", netns: "/run/ns/abc", ports, result });
  assert.deepEqual(
    calls.map((c) => [c.file, c.env.CNI_COMMAND]),
    [
      [join(dir, "portmap"), "DEL"],
      [join(dir, "bridge"), "DEL"],
    ],
  );
});

test("a plugin's error result is the error; a missing plugin is named", async () => {
  const proc = {
    run: async () => {
      throw Object.assign(new Error("exit 1"), {
        stdout: JSON.stringify({ code: 11, msg: "no IP", details: "pool full" }),
      });
    },
  } as unknown as Processes;
  const runner = new CniRunner(proc, opts(join(dir, "net3.d")));
  await assert.rejects(
    runner.add({ id: "x", netns: "/n", ports: [] }),
    /plugin type="bridge".*no IP: pool full/,
  );
  const none = new CniRunner(proc, { ...opts(join(dir, "net3.d")), binDirs: [join(dir, "nowhere")] });
  assert.equal(await none.missingPlugin(), "bridge");
});
