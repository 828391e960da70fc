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

test("network and volume bodies with wrong types or bad IPAM are a 400 with dockerd's text and create nothing", async () => {
  const nets0 = (await api<unknown[]>(d, "GET", "/networks")).length;
  const cases: [string, unknown, number, RegExp][] = [
    [
      "/networks/create",
      { Name: 5 },
      400,
      /^json: cannot unmarshal number into Go struct field NetworkCreateRequest\.Name of type string$/,
    ],
    [
      "/networks/create",
      { Name: "n1", Internal: "yes" },
      400,
      /NetworkCreateRequest\.Internal of type bool$/,
    ],
    [
      "/networks/create",
      [],
      400,
      /^json: cannot unmarshal array into Go value of type types\.NetworkCreateRequest$/,
    ],
    [
      "/networks/create",
      { Name: "n1", Labels: { a: 1 } },
      400,
      /NetworkCreateRequest\.Labels of type string$/,
    ],
    [
      "/networks/create",
      { Name: "n1", IPAM: { Config: "a" } },
      400,
      /Go struct field IPAM\.IPAM\.Config of type \[\]network\.IPAMConfig$/,
    ],
    [
      "/networks/create",
      { Name: "n1", IPAM: { Config: [{ Subnet: 5 }] } },
      400,
      /Go struct field IPAMConfig\.IPAM\.Config\.Subnet of type string$/,
    ],
    [
      "/networks/create",
      { Name: "n1", IPAM: { Config: [{ Subnet: "bad" }] } },
      400,
      /^Invalid subnet bad : invalid CIDR address: bad$/,
    ],
    [
      "/networks/create",
      { Name: "n1", IPAM: { Config: [{ Subnet: "10.231.0.0/16", Gateway: "bad" }] } },
      400,
      /^invalid gateway address bad in Ipam configuration$/,
    ],
    ["/networks/create", { Name: "n1", Driver: "nope" }, 404, /^plugin "nope" not found$/],
    [
      "/networks/bridge/connect",
      { Container: 5 },
      400,
      /Go struct field NetworkConnect\.Container of type string$/,
    ],
    [
      "/networks/bridge/connect",
      { Container: "x", EndpointConfig: { Aliases: "a" } },
      400,
      /Go struct field EndpointSettings\.EndpointConfig\.Aliases of type \[\]string$/,
    ],
    [
      "/networks/bridge/disconnect",
      { Container: "x", Force: "y" },
      400,
      /Go struct field NetworkDisconnect\.Force of type bool$/,
    ],
    ["/volumes/create", { Name: 5 }, 400, /Go struct field VolumeCreateBody\.Name of type string$/],
    ["/volumes/create", { Labels: [] }, 400, /VolumeCreateBody\.Labels of type map\[string\]string$/],
    [
      "/volumes/create",
      5,
      400,
      /^json: cannot unmarshal number into Go value of type volume\.VolumeCreateBody$/,
    ],
    ["/exec/abc/start", { Detach: "y" }, 400, /Go struct field ExecStartCheck\.Detach of type bool$/],
    ["/auth", { username: 5 }, 400, /Go struct field AuthConfig\.username of type string$/],
    [
      "/commit?container=nope",
      { Env: "x" },
      400,
      /Go struct field ContainerConfigWrapper\.Env of type \[\]string$/,
    ],
    [
      "/containers/create",
      { Image: "busybox", NetworkingConfig: { EndpointsConfig: { a: { Aliases: "x" } } } },
      400,
      /EndpointSettings\.NetworkingConfig\.EndpointsConfig\.Aliases of type \[\]string$/,
    ],
    ["/containers/create", { Image: "busybox", Cmd: 5 }, 400, /CreateRequest\.Cmd of type string$/],
  ];
  for (const [path, body, code, msg] of cases) {
    const r = await status("POST", path, body);
    assert.equal(r.status, code, `${path} ${JSON.stringify(body)}: ${r.message}`);
    assert.match(r.message, msg, `${path} ${JSON.stringify(body)}`);
  }
  assert.equal((await api<unknown[]>(d, "GET", "/networks")).length, nets0);
  assert.deepEqual((await api<{ Volumes: unknown[] }>(d, "GET", "/volumes")).Volumes, []);
  // Docker's StrSlice: a single string is a command.
  const c = await api<{ Id: string }>(d, "POST", "/containers/create", { Image: "busybox", Cmd: "true" });
  const info = await api<{ Config: { Cmd: string[] } }>(d, "GET", `/containers/${c.Id}/json`);
  assert.deepEqual(info.Config.Cmd, ["true"]);
  await api(d, "DELETE", `/containers/${c.Id}`);
  const cli = await docker(d, ["network", "create", "--subnet", "nonsense", "n2"]);
  assert.match(cli.stderr, /Invalid subnet nonsense : invalid CIDR address: nonsense/);
});
