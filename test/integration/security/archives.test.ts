/**
 * Hostile archives through every route that unpacks one (image import, image load, `docker cp` into a
 * container, a build context): `..` climbing out, absolute names, a symlink pointing out followed by an
 * entry through it, a hardlink to a host file then written through. Whatever each route answers, nothing
 * may appear or change outside its target, and the daemon keeps serving.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { api, docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
let outside: string;
let work: string;

before(async () => {
  outside = await mkdtemp(join(tmpdir(), "wt-hostile-out-"));
  work = await mkdtemp(join(tmpdir(), "wt-hostile-work-"));
  await writeFile(join(outside, "victim"), "victim\n");
  d = await startDaemon({ name: "hostile" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
  await rm(outside, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

interface Entry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink";
  data?: string;
  link?: string;
}

/** Writes a tar with exactly these entries (names unsanitized) using Python's tarfile. */
async function makeTar(path: string, entries: Entry[]): Promise<void> {
  const script = `
import json, sys, tarfile, io
entries = json.load(open(sys.argv[2]))
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for e in entries:
        i = tarfile.TarInfo(e["name"])
        kind = e.get("type", "file")
        data = e.get("data", "").encode()
        if kind == "dir": i.type = tarfile.DIRTYPE; i.mode = 0o755
        elif kind == "symlink": i.type = tarfile.SYMTYPE; i.linkname = e["link"]
        elif kind == "hardlink": i.type = tarfile.LNKTYPE; i.linkname = e["link"]
        else: i.size = len(data); i.mode = 0o644
        t.addfile(i, io.BytesIO(data) if kind == "file" else None)
`;
  const spec = `${path}.json`;
  await writeFile(spec, JSON.stringify(entries));
  const r = await exec("python3", ["-c", script, path, spec]);
  assert.equal(r.code, 0, r.stderr);
}

/** Each way out, as its own archive so one refused entry does not hide the next, all aimed at `outside`. */
function hostileCases(): [string, Entry[]][] {
  const up = "../".repeat(30);
  return [
    [
      "dotdot",
      [
        { name: "ok.txt", data: "fine\n" },
        { name: `${up}${outside.slice(1)}/dotdot`, data: "pwned\n" },
      ],
    ],
    ["absolute", [{ name: `${outside}/absolute`, data: "pwned\n" }]],
    [
      "symlink",
      [
        { name: "sl", type: "symlink", link: outside },
        { name: "sl/via-symlink", data: "pwned\n" },
      ],
    ],
    [
      "relative symlink",
      [
        { name: "dirlink", type: "symlink", link: "../../../../../../../../../../.." },
        { name: `dirlink${outside}/via-relative-link`, data: "pwned\n" },
      ],
    ],
    [
      "hardlink",
      [
        { name: "hl", type: "hardlink", link: join(outside, "victim") },
        { name: "hl", data: "pwned\n" },
      ],
    ],
    [
      "hardlink through symlink",
      [
        { name: "sl2", type: "symlink", link: outside },
        { name: "hl2", type: "hardlink", link: "sl2/victim" },
        { name: "hl2", data: "pwned\n" },
      ],
    ],
  ];
}

async function assertOutsideUntouched(route: string): Promise<void> {
  assert.deepEqual((await readdir(outside)).sort(), ["victim"], `${route} wrote outside its target`);
  // A 5xx for a client's archive is a daemon bug, not an answer.
  assert.equal(await readFile(join(outside, "victim"), "utf8"), "victim\n", `${route} changed a host file`);
  assert.equal((await stat(join(outside, "victim"))).nlink, 1, `${route} hard-linked a host file`);
  await api(d, "GET", "/_ping");
}

async function post(
  path: string,
  file: string,
  type = "application/x-tar",
): Promise<{ code: number; out: string }> {
  const r = await exec("curl", [
    "-s",
    "-o",
    "-",
    "-w",
    "\\n%{http_code}",
    "--unix-socket",
    d.socket,
    "-X",
    path.includes("/archive") ? "PUT" : "POST",
    "-H",
    `Content-Type: ${type}`,
    "--data-binary",
    `@${file}`,
    `http://docker${path}`,
  ]);
  const lines = r.stdout.trimEnd().split("\n");
  return { code: Number(lines.pop()), out: lines.join("\n") };
}

/** Runs one route over every hostile case; each must leave `outside` untouched and answer below 500. */
async function eachCase(
  route: string,
  send: (label: string, entries: Entry[]) => Promise<{ code: number; out: string }>,
) {
  for (const [label, entries] of hostileCases()) {
    const r = await send(label.replace(/\W+/g, "-"), entries);
    await assertOutsideUntouched(`${route} (${label})`);
    assert.ok(r.code < 500, `${route} (${label}) answered ${r.code}: ${r.out}`);
  }
}

test("image import of a hostile tar writes nothing outside the layer", async () => {
  await eachCase("import", async (label, entries) => {
    const tar = join(work, `import-${label}.tar`);
    await makeTar(tar, entries);
    return post(`/images/create?fromSrc=-&repo=hostile&tag=${label}`, tar);
  });
});

test("docker cp (PUT archive) of a hostile tar stays inside the container", async () => {
  const c = await api<{ Id: string }>(d, "POST", "/containers/create", { Image: "busybox", Cmd: ["true"] });
  await eachCase("cp", async (label, entries) => {
    const tar = join(work, `cp-${label}.tar`);
    await makeTar(tar, entries);
    return post(`/containers/${c.Id}/archive?path=/`, tar);
  });
  await api(d, "DELETE", `/containers/${c.Id}?force=1`);
});

/** A `docker save` bundle whose one layer is `layer`. */
async function loadBundle(layer: string, tar: string): Promise<void> {
  const digest = (await exec("sha256sum", [layer])).stdout.split(" ")[0];
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${digest}`] },
  });
  const configDigest = (await exec("sha256sum", [], { input: config })).stdout.split(" ")[0];
  const bundle = [
    { name: `${configDigest}.json`, data: config },
    { name: "layer/layer.tar", data: await readFile(layer, "latin1") },
    {
      name: "manifest.json",
      data: JSON.stringify([
        { Config: `${configDigest}.json`, RepoTags: ["hostile:load"], Layers: ["layer/layer.tar"] },
      ]),
    },
  ];
  // The layer's bytes travel through JSON as latin1 and are written back unchanged.
  const script = `
import json, sys, tarfile, io
with tarfile.open(sys.argv[1], "w") as t:
    for e in json.load(open(sys.argv[2])):
        data = e["data"].encode("latin1")
        i = tarfile.TarInfo(e["name"]); i.size = len(data); i.mode = 0o644
        t.addfile(i, io.BytesIO(data))
`;
  await writeFile(`${tar}.json`, JSON.stringify(bundle));
  const mk = await exec("python3", ["-c", script, tar, `${tar}.json`]);
  assert.equal(mk.code, 0, mk.stderr);
}

test("image load of a hostile layer writes nothing outside the layer store", async () => {
  await eachCase("load", async (label, entries) => {
    const layer = join(work, `layer-${label}.tar`);
    await makeTar(layer, entries);
    const tar = join(work, `load-${label}.tar`);
    await loadBundle(layer, tar);
    return post("/images/load", tar);
  });
});

test("a hostile build context is never unpacked outside the build's directory", async () => {
  await eachCase("build", async (label, entries) => {
    const tar = join(work, `context-${label}.tar`);
    await makeTar(tar, [
      { name: "Dockerfile", data: "FROM busybox\nCOPY . /ctx\nRUN ls -R /ctx\n" },
      ...entries,
    ]);
    return post(`/build?t=hostile:${label}&rm=1`, tar);
  });
  assert.ok(!existsSync(join(outside, "dotdot")));
});

test("device nodes and setuid files in an imported layer stay inside it, as a root dockerd keeps them", async () => {
  const file = join(work, "devices.tar");
  const script = `
import sys, tarfile, io
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for name, kind, major, minor in [("null2", tarfile.CHRTYPE, 1, 3), ("sda9", tarfile.BLKTYPE, 8, 9), ("fifo", tarfile.FIFOTYPE, 0, 0)]:
        i = tarfile.TarInfo(name); i.type = kind; i.devmajor = major; i.devminor = minor; i.mode = 0o600
        t.addfile(i)
    data = b"#!/bin/sh\\n"
    i = tarfile.TarInfo("suid"); i.size = len(data); i.mode = 0o4755
    t.addfile(i, io.BytesIO(data))
    i = tarfile.TarInfo(sys.argv[2] + "/abs-dev"); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3
    t.addfile(i)
`;
  const r = await exec("python3", ["-c", script, file, outside]);
  assert.equal(r.code, 0, r.stderr);
  const res = await post("/images/create?fromSrc=-&repo=devices&tag=x", file);
  assert.ok(res.code < 500, `import answered ${res.code}: ${res.out}`);
  await assertOutsideUntouched("import of device nodes");
  assert.equal(res.code, 200, res.out);
  // What the layer holds, read back through the container export (the image has no shell to ask).
  const cli = (args: string[]) => exec("/usr/local/bin/docker", ["-H", `unix://${d.socket}`, ...args]);
  const id = (await cli(["create", "devices:x", "x"])).stdout.trim();
  const tarOut = join(work, "devices-export.tar");
  assert.equal((await cli(["export", "-o", tarOut, id])).code, 0);
  await cli(["rm", id]);
  const list = (await exec("tar", ["-tvf", tarOut])).stdout;
  assert.match(list, /^c\S+ .* 1,\s*3 .* null2$/m);
  assert.match(list, /^b\S+ .* 8,\s*9 .* sda9$/m);
  assert.match(list, /^p\S+ .* fifo$/m);
  assert.match(list, /^-rwsr-xr-x .* suid$/m);
  // The absolute name lands inside the layer, under its own path.
  assert.match(list, /abs-dev$/m);
});

test("docker load of a tar cut inside a file fails at once with the tar's error, as dockerd answers it", async () => {
  const full = join(work, "cut-full.tar");
  await makeTar(full, [{ name: "a/big", data: "x".repeat(20_000) }]);
  const cut = join(work, "cut.tar");
  await writeFile(cut, (await readFile(full)).subarray(0, 3000));
  // dockerd 20.10 here: exit 1, 'Error processing tar file(exit status 1): unexpected EOF'; before, wharf
  // never answered (tar-stream waits for the rest of the entry).
  const r = await docker(d, ["load", "-i", cut], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /Error processing tar file.*: unexpected EOF/);
  const left = (await readdir(join(d.dataRoot, "tmp")).catch(() => [])).filter((n) => n.startsWith("load-"));
  assert.deepEqual(left, []);
});
