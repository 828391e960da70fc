/** Issue 18: what dockerd 20.10 shows through the docker CLI, checked against a wharf daemon (values taken from dockerd on this machine). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DOCKER,
  docker,
  freePort,
  freeSubnet,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "parity" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await docker(d, args, { input });
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("docker CLI parity (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("inspect fills Docker's defaults for IpcMode, CgroupnsMode, Runtime and a named volume's Mode", async () => {
    await ok([
      "create",
      "--name",
      "defaults",
      "-v",
      "pv1:/data",
      "-v",
      "pv1:/ro:ro",
      "-v",
      "/anon",
      "busybox",
    ]);
    const cgns = existsSync("/sys/fs/cgroup/cgroup.controllers") ? "private" : "host";
    assert.equal(
      await ok([
        "inspect",
        "-f",
        "{{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}} {{.HostConfig.Runtime}}",
        "defaults",
      ]),
      `private ${cgns} runc\n`,
    );
    const modes = await ok([
      "inspect",
      "-f",
      "{{range .Mounts}}{{.Destination}}={{.Mode}};{{end}}",
      "defaults",
    ]);
    assert.deepEqual(modes.trim().split(";").filter(Boolean).sort(), ["/anon=", "/data=z", "/ro=ro"]);
    await ok(["create", "--name", "mnt", "--mount", "type=volume,src=pv2,dst=/m", "busybox"]);
    assert.equal(await ok(["inspect", "-f", "{{range .Mounts}}{{.Mode}}{{end}}", "mnt"]), "z\n");
    await ok(["create", "--name", "chosen", "--ipc", "shareable", "busybox"]);
    assert.equal(await ok(["inspect", "-f", "{{.HostConfig.IpcMode}}", "chosen"]), "shareable\n");
    await ok(["rm", "defaults", "mnt", "chosen"]);
  });
});

describe("container filesystem parity (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("/.dockerenv and /etc/mtab exist in every container, outside docker diff and commit, inside export", async () => {
    await ok([
      "run",
      "--name",
      "env",
      "busybox",
      "sh",
      "-c",
      "ls -l /.dockerenv; readlink /etc/mtab; touch /new",
    ]).then((out) => {
      assert.match(out, /^-rwxr-xr-x .* 0 .*\/\.dockerenv\n\/proc\/mounts\n$/);
    });
    assert.equal(await ok(["diff", "env"]), "A /new\n");
    const tar = await docker(d, ["export", "env"]);
    assert.equal(tar.code, 0);
    assert.match(tar.stdout, /\.dockerenv/);
    await ok(["commit", "env", "envimg"]);
    const fromImage = await ok([
      "run",
      "--rm",
      "--entrypoint",
      "",
      "envimg",
      "sh",
      "-c",
      "ls /new && ls -a / | grep -c dockerenv",
    ]);
    assert.equal(fromImage, "/new\n1\n");
    await ok(["rm", "env"]);
  });
});

describe("container sizes (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("ps --size shows (virtual …) and inspect -s has SizeRw and SizeRootFs", async () => {
    await ok(["run", "--name", "sized", "busybox", "sh", "-c", "head -c 1000 /dev/zero > /tmp/f"]);
    const imageSize = Number(await ok(["image", "inspect", "-f", "{{.Size}}", "busybox"]));
    assert.equal(
      await ok(["inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "sized"]),
      `1000 ${imageSize + 1000}\n`,
    );
    assert.match(
      await ok(["ps", "-a", "--size", "--filter", "name=sized", "--format", "{{.Size}}"]),
      /^1kB \(virtual [\d.]+MB\)\n$/,
    );
    // Without the size flag dockerd sends both as null.
    assert.equal(await ok(["inspect", "-f", "{{.SizeRw}}", "sized"]), "<nil>\n");
    await ok(["rm", "sized"]);
  });
});

describe("list filters (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("ps --filter publish= matches the host port, expose= the container port", async () => {
    const hp = await freePort();
    await ok([
      "run",
      "-d",
      "--name",
      "pub",
      "-p",
      `127.0.0.1:${hp}:80`,
      "--expose",
      "90",
      "busybox",
      "sleep",
      "100",
    ]);
    const ps = (f: string) => ok(["ps", "--filter", f, "--filter", "name=pub", "--format", "{{.Names}}"]);
    assert.equal(await ps(`publish=${hp}`), "pub\n");
    assert.equal(await ps(`publish=${hp}/tcp`), "pub\n");
    assert.equal(await ps("publish=80"), "");
    assert.equal(await ps("publish=90"), "");
    assert.equal(await ps("expose=80"), "pub\n");
    assert.equal(await ps("expose=90"), "pub\n");
    assert.equal(await ps(`expose=${hp}`), "");
    await ok(["rm", "-f", "pub"]);
  });
});

describe("image save (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("save <repo> without a tag saves every tag of the repository", async () => {
    await ok(["tag", "busybox", "rsave:a"]);
    await ok(["run", "--name", "forsave", "busybox", "touch", "/x"]);
    await ok(["commit", "forsave", "rsave:b"]);
    const tar = join(d.dir, "rsave.tar");
    await ok(["save", "-o", tar, "rsave"]);
    const manifest = JSON.parse(
      execFileSync("tar", ["-xOf", tar, "manifest.json"], { encoding: "utf8" }),
    ) as {
      RepoTags: string[];
    }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags).sort(), [["rsave:a"], ["rsave:b"]]);
    const missing = await docker(d, ["save", "-o", tar, "norepo"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "Error response from daemon: No such image: norepo\n");
    await ok(["rm", "forsave"]);
    await ok(["rmi", "rsave:a", "rsave:b"]);
  });
});

describe("built images (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("a built image drops its base's Comment and records its parent in Config.Image", async () => {
    const ctx = join(d.dir, "buildctx");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nRUN touch /y\nENV A=1\n");
    await ok(["build", "-q", "-t", "built", ctx]);
    assert.equal(await ok(["image", "inspect", "-f", "{{json .Comment}}", "busybox"]), '"Imported from -"\n');
    const out = await ok([
      "image",
      "inspect",
      "-f",
      "{{json .Comment}} {{.Config.Image}} {{.Parent}}",
      "built",
    ]);
    const [comment, image, parent] = out.trim().split(" ");
    assert.equal(comment, '""');
    assert.match(image, /^sha256:[0-9a-f]{64}$/);
    assert.equal(image, parent);
    await ok(["rmi", "built"]);
  });
});

describe("networks (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("network ls --filter dangling=false lists only the predefined and used networks", async () => {
    await ok(["network", "create", "used"]);
    await ok(["network", "create", "unused"]);
    await ok(["run", "-d", "--name", "netuser", "--network", "used", "busybox", "sleep", "100"]);
    const ls = async (f: string) =>
      (await ok(["network", "ls", "--filter", f, "--format", "{{.Name}}"])).trim().split("\n").sort();
    assert.deepEqual(await ls("dangling=false"), ["bridge", "host", "none", "used"]);
    assert.deepEqual(await ls("dangling=true"), ["unused"]);
    await ok(["rm", "-f", "netuser"]);
    await ok(["network", "rm", "used", "unused"]);
  });
});

describe("network prune (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("network prune --filter until=1h keeps a network created seconds ago", async () => {
    await ok(["network", "create", "fresh"]);
    assert.equal(await ok(["network", "prune", "-f", "--filter", "until=1h"]), "");
    assert.equal(
      await ok(["network", "ls", "-q", "--filter", "name=fresh", "--format", "{{.Name}}"]),
      "fresh\n",
    );
    assert.equal(
      await ok(["network", "prune", "-f", "--filter", `until=${Math.ceil(Date.now() / 1000) + 5}`]),
      "Deleted Networks:\nfresh\n\n",
    );
  });
});

describe("network IPAM (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("network create --aux-address is kept in the IPAM config", async () => {
    const subnet = await freeSubnet();
    const aux = subnet.replace(/\.0\/24$/, ".2");
    await ok(["network", "create", "--subnet", subnet, "--aux-address", `host1=${aux}`, "auxnet"]);
    assert.equal(
      await ok([
        "network",
        "inspect",
        "-f",
        "{{range .IPAM.Config}}{{json .AuxiliaryAddresses}}{{end}}",
        "auxnet",
      ]),
      `{"host1":"${aux}"}\n`,
    );
    // The first free address after the gateway would be .2: it is the auxiliary host's, so the container gets .3.
    await ok(["run", "-d", "--name", "auxuser", "--network", "auxnet", "busybox", "sleep", "100"]);
    const ip = await ok([
      "inspect",
      "-f",
      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      "auxuser",
    ]);
    assert.notEqual(ip.trim(), aux);
    await ok(["rm", "-f", "auxuser"]);
    await ok(["network", "rm", "auxnet"]);
  });
});

describe("network inspect after rename (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("network inspect's Containers shows the new name after docker rename", async () => {
    await ok(["network", "create", "rnnet"]);
    await ok(["run", "-d", "--name", "before", "--network", "rnnet", "busybox", "sleep", "100"]);
    await ok(["rename", "before", "after"]);
    assert.equal(
      await ok(["network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "rnnet"]),
      "after\n",
    );
    await ok(["rm", "-f", "after"]);
    await ok(["network", "rm", "rnnet"]);
  });
});
