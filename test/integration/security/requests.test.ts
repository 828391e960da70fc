/**
 * Bad request bodies answer 400 with Docker's messages before any work starts: nothing is created.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ name: "requests" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

async function status(
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; message: string }> {
  try {
    await api(d, method, path, body);
    return { status: 200, message: "" };
  } catch (e) {
    const err = e as Error & { status: number };
    return { status: err.status, message: err.message };
  }
}

test("create with wrong types or out-of-range values is a 400 and leaves no container", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { HostConfig: { Privileged: "yes" } },
      /cannot unmarshal string into Go struct field HostConfig\.HostConfig\.Privileged of type bool/,
    ],
    [{ HostConfig: { Memory: -5 } }, /Minimum memory limit allowed is 6MB/],
    [{ HostConfig: { NanoCpus: -1 } }, /Range of CPUs is from 0\.01 to/],
    [{ HostConfig: { CpuShares: "high" } }, /HostConfig\.HostConfig\.CpuShares of type int64/],
    [{ HostConfig: { BlkioWeight: 5 } }, /Range of blkio weight is from 10 to 1000/],
    [{ HostConfig: { PidsLimit: 1.5 } }, /PidsLimit of type int64/],
    [
      { HostConfig: { OomScoreAdj: -1001 } },
      /Invalid value -1001, range for oom score adj is \[-1000, 1000\]/,
    ],
    [{ HostConfig: { RestartPolicy: { Name: "sometimes" } } }, /unknown policy 'sometimes'/],
    [{ HostConfig: { PortBindings: { "http/tcp": [] } } }, /invalid port specification: "http"/],
    [{ HostConfig: { Mounts: [{ Type: "bind", Target: "/x" }] } }, /field Source must not be empty/],
  ];
  for (const [body, msg] of cases) {
    const r = await status("POST", "/containers/create", { Image: "busybox", ...body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.message, msg);
  }
  const all = await api<unknown[]>(d, "GET", "/containers/json?all=1");
  assert.equal(all.length, 0);
});

test("update and exec refuse bad bodies too; the docker CLI shows the daemon's message", async () => {
  const id = (await docker(d, ["run", "-d", "busybox", "sleep", "30"])).stdout.trim();
  const up = await status("POST", `/containers/${id}/update`, { RestartPolicy: { Name: "bogus" } });
  assert.equal(up.status, 400);
  assert.match(up.message, /invalid restart policy: unknown policy 'bogus'/);
  const ex = await status("POST", `/containers/${id}/exec`, { Cmd: "sh" });
  assert.equal(ex.status, 400);
  const cli = await docker(d, ["update", "--memory", "1k", id]);
  assert.match(cli.stderr, /Minimum memory limit allowed is 6MB/);
  await docker(d, ["rm", "-f", id]);
});
