/**
 * The same bad bodies, sent raw to wharf and to a dockerd 20.10 of the test's own, get the same status and
 * message (API v1.41, 20.10's): wrong JSON types, negative and out-of-range resources, unknown restart policies,
 * bad port, mount, name and image specs. wharf creates nothing. Where wharf answers as a later dockerd (its API
 * is 1.47) and 20.10's text or status differs, the case names wharf's answer and why.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, type TestDaemon } from "../../helpers/daemon.ts";
import { DOCKERD, type EnginePair, startEnginePair, type TestDockerd } from "../../helpers/dockerd.ts";

let pair: EnginePair | undefined;
let d: TestDaemon | undefined;
let dd: TestDockerd | undefined;

before(async () => {
  pair = await startEnginePair("reqparity");
  d = pair?.wharf;
  dd = pair?.dockerd;
});
after(async () => {
  await pair?.stop();
});

async function answer(on: { socket: string }, path: string, body: unknown): Promise<string> {
  try {
    await api(on, "POST", path, body);
    return "2xx";
  } catch (e) {
    const err = e as Error & { status: number };
    return `${err.status} ${err.message}`;
  }
}

test("bad create bodies answer as dockerd 20.10 answers them", { skip: !DOCKERD }, async (t) => {
  if (!d || !dd) {
    t.skip("dockerd did not start");
    return;
  }
  // [query, body fields, wharf's answer where it follows a later dockerd (API 1.47) instead of 20.10's text]
  const bodies: [string, Record<string, unknown>, string?][] = [
    ["", { HostConfig: { Privileged: "yes" } }],
    ["", { HostConfig: { Memory: -5 } }],
    ["", { HostConfig: { Memory: 1024 } }],
    ["", { HostConfig: { Memory: 8 << 20, MemorySwap: 4 << 20 } }],
    ["", { HostConfig: { NanoCpus: -1 } }],
    ["", { HostConfig: { CpuShares: "high" } }],
    // 20.10 drops a weight this host's kernel cannot apply (a warning); the issue asks for the range check.
    ["", { HostConfig: { BlkioWeight: 5 } }, "400 Range of blkio weight is from 10 to 1000"],
    ["", { HostConfig: { PidsLimit: 1.5 } }],
    ["", { HostConfig: { OomScoreAdj: -1001 } }],
    [
      "",
      { HostConfig: { RestartPolicy: { Name: "sometimes" } } },
      "400 invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
    ],
    [
      "",
      { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 2 } } },
      "400 invalid restart policy: maximum retry count can only be used with 'on-failure'",
    ],
    ["", { HostConfig: { PortBindings: { "http/tcp": [] } } }],
    ["", { HostConfig: { Mounts: [{ Type: "bind", Target: "/x" }] } }],
    ["", { HostConfig: { Mounts: [{ Type: "volume", Source: "v", Target: "relative" }] } }],
    // 20.10's 500 for a bad bind mode is a client error.
    [
      "",
      { HostConfig: { Binds: ["/a:/b:zz"] } },
      "400 invalid volume specification: '/a:/b:zz': invalid mode: zz",
    ],
    [
      "",
      { Env: "A=1" },
      "400 json: cannot unmarshal string into Go struct field CreateRequest.Env of type []string",
    ],
    ["?name=bad%20name", {}],
    // "UPPER" reads as a registry host (distribution's rule); the image is then not found, a 404.
    ["", { Image: "UPPER/case" }, "404 No such image: UPPER/case:latest"],
    [
      "",
      { Image: "Busybox" },
      "400 invalid reference format: repository name (library/Busybox) must be lowercase",
    ],
    ["", { Image: "busybox:bad tag" }],
  ];
  const mismatches: string[] = [];
  for (const [query, extra, ours] of bodies) {
    const body = { Image: "busybox", Cmd: ["true"], ...extra };
    const path = `/v1.41/containers/create${query}`;
    const [w, x] = [await answer(d, path, body), await answer(dd, path, body)];
    if (!ours) assert.match(x, /^[45]\d\d /, `dockerd accepted ${JSON.stringify(extra)}`);
    // 20.10 answers a body of the wrong JSON types with a 500; later dockerd (and wharf) with a 400.
    const want = ours ?? x.replace(/^500 json: cannot unmarshal/, "400 json: cannot unmarshal");
    if (w !== want) mismatches.push(`${query} ${JSON.stringify(extra)}\n  wharf:   ${w}\n  dockerd: ${x}`);
  }
  assert.deepEqual(mismatches, []);
  // dockerd made one (the blkio weight it drops); wharf none. dockerd's roots go with it.
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
});
