/**
 * A container's files from outside and an interactive exec, through the docker CLI: cp both ways (files,
 * directories, a symlink pointing outside never followed), diff, export, volumes, exec -it on a real
 * pseudo-terminal (script(1)).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER, docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { ok } from "./common.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "files" });
  await importBusybox(d);
  await ok(d, ["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
});
after(async () => {
  await d?.stop();
});

describe("cp, diff, export", () => {
  test("docker cp copies files and directories both ways", async () => {
    const src = join(d.dir, "src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "a.txt"), "alpha\n");
    await writeFile(join(src, "sub", "b.txt"), "beta\n");
    await ok(d, ["cp", join(src, "a.txt"), "box:/tmp/a.txt"]);
    await ok(d, ["cp", src, "box:/data"]);
    assert.equal(await ok(d, ["exec", "box", "cat", "/tmp/a.txt", "/data/sub/b.txt"]), "alpha\nbeta");
    await ok(d, ["exec", "box", "sh", "-c", "mkdir -p /out/deep && echo gamma > /out/deep/c.txt"]);
    const dst = join(d.dir, "dst");
    await mkdir(dst);
    await ok(d, ["cp", "box:/out", dst]);
    assert.equal(await readFile(join(dst, "out", "deep", "c.txt"), "utf8"), "gamma\n");
    await ok(d, ["cp", "box:/out/deep/c.txt", join(dst, "single.txt")]);
    assert.equal(await readFile(join(dst, "single.txt"), "utf8"), "gamma\n");
    // Into a created, never-started container too.
    const created = await ok(d, ["create", "busybox", "cat", "/x.txt"]);
    await ok(d, ["cp", join(src, "a.txt"), `${created}:/x.txt`]);
    await ok(d, ["start", "-a", created]).then((o) => assert.equal(o, "alpha"));
    await ok(d, ["rm", created]);
  });

  test("docker cp in keeps the files' owners; cp -a gives them to the container's user, as dockerd", async () => {
    const src = join(d.dir, "owned");
    await mkdir(src, { recursive: true });
    await writeFile(join(src, "f"), "hi\n");
    await exec("chown", ["1234:1234", join(src, "f")]);
    await ok(d, ["run", "-d", "--name", "own-root", "busybox", "sleep", "300"]);
    await ok(d, ["run", "-d", "--name", "own-nobody", "-u", "nobody", "busybox", "sleep", "300"]);
    const owner = (c: string, p: string) => ok(d, ["exec", c, "stat", "-c", "%u:%g", p]);
    await ok(d, ["cp", join(src, "f"), "own-root:/plain"]);
    assert.equal(await owner("own-root", "/plain"), "1234:1234");
    await ok(d, ["cp", "-a", join(src, "f"), "own-root:/archived"]);
    assert.equal(await owner("own-root", "/archived"), "1234:1234");
    await ok(d, ["cp", "-a", join(src, "f"), "own-nobody:/tmp/a"]);
    assert.equal(await owner("own-nobody", "/tmp/a"), "65534:65534");
    await ok(d, ["rm", "-f", "own-root", "own-nobody"]);
  });

  test("a symlink pointing outside the container is never followed", async () => {
    // /tmp exists on both sides: resolved on the host, the link would write to the host's /tmp.
    const outside = `/tmp/wharf-escape-${process.pid}-${Date.now()}`;
    await ok(d, [
      "exec",
      "box",
      "sh",
      "-c",
      `ln -s /../../../..${outside} /escape && ln -s /../../../../../../etc /etcup`,
    ]);
    // Writing through the link lands inside the container's root, not on the host.
    await writeFile(join(d.dir, "payload"), "p\n");
    await ok(d, ["cp", join(d.dir, "payload"), "box:/escape"]);
    assert.equal(existsSync(outside), false, "host path untouched");
    assert.equal(await ok(d, ["exec", "box", "cat", outside]), "p");
    // Copying the link out gives the link itself.
    const dst = join(d.dir, "links");
    await mkdir(dst);
    // The daemon sends the link itself; the CLI then refuses to recreate a link that leaves the destination.
    const link = await docker(d, ["cp", "box:/etcup", join(dst, "etcup")]);
    assert.match(link.stderr, /invalid symlink .* -> "\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc"/);
    await ok(d, ["exec", "box", "ln", "-s", "hostname", "/etc/hn-link"]);
    await ok(d, ["cp", "box:/etc/hn-link", join(dst, "hn-link")]);
    assert.ok((await lstat(join(dst, "hn-link"))).isSymbolicLink());
    assert.equal(await readlink(join(dst, "hn-link")), "hostname");
    // Following it (trailing /.) resolves inside the container: its /etc/hostname, not the host's.
    await ok(d, ["cp", "box:/etcup/.", join(dst, "etc")]);
    await ok(d, ["exec", "box", "sh", "-c", "echo marker-inside >> /etc/passwd"]);
    // The image's passwd (its test user), not the host's.
    assert.match(await readFile(join(dst, "etc", "passwd"), "utf8"), /wharf test user/);
    await ok(d, ["cp", "box:/etcup/.", join(dst, "etc2")]);
    assert.match(await readFile(join(dst, "etc2", "passwd"), "utf8"), /marker-inside/);
  });

  test("docker diff lists A/C/D from the upper dir; export tars the merged rootfs", async () => {
    const c = await ok(d, [
      "run",
      "--name",
      "changer",
      "busybox",
      "sh",
      "-c",
      "rm /bin/true; echo x > /new; echo y >> /etc/passwd",
    ]);
    assert.equal(c, "");
    const diff = (await ok(d, ["diff", "changer"])).split("\n");
    for (const l of ["C /bin", "D /bin/true", "A /new", "C /etc", "C /etc/passwd"])
      assert.ok(diff.includes(l), diff.join(","));
    const tarFile = join(d.dir, "export.tar");
    await ok(d, ["export", "-o", tarFile, "changer"]);
    const list = await exec("tar", ["-tvf", tarFile]);
    assert.equal(list.code, 0);
    const names = list.stdout.split("\n").map((l) => l.split(/\s+/).slice(5).join(" "));
    assert.ok(names.includes("new"));
    assert.ok(names.includes("bin/"));
    assert.ok(!names.includes("bin/true"), "deleted file not exported");
    assert.ok(list.stdout.includes("link to"), "hard links kept as links");
    const body = await exec("tar", ["-xOf", tarFile, "new"]);
    assert.equal(body.stdout, "x\n");
    const size = (await lstat(tarFile)).size;
    assert.ok(size < 50 * 1024 * 1024, `export is ${size} bytes`);
  });

  test("volumes through the CLI: create, use, inspect, in-use rm refused, rm", async () => {
    await ok(d, ["volume", "create", "--label", "k=v", "vol1"]);
    assert.equal(await ok(d, ["volume", "ls", "-q", "--filter", "label=k=v"]), "vol1");
    await ok(d, ["run", "--rm", "-v", "vol1:/v", "busybox", "sh", "-c", "echo kept > /v/f"]);
    assert.equal(await ok(d, ["run", "--rm", "-v", "vol1:/v", "busybox", "cat", "/v/f"]), "kept");
    const user = await ok(d, ["create", "-v", "vol1:/v", "busybox"]);
    const rm = await exec(DOCKER, ["-H", d.host, "volume", "rm", "vol1"]);
    assert.match(rm.stderr, /volume is in use/);
    await ok(d, ["rm", user]);
    await ok(d, ["volume", "rm", "vol1"]);
  });
});

describe("exec -it", () => {
  test("docker exec -it runs on a pseudo-terminal driven by script(1)", async () => {
    const cmd = `${DOCKER} -H ${d.host} exec -it box sh -c 'tty; stty size; echo done'`;
    // script(1) gives the docker CLI a terminal; its own stdin stays open until the output is in, since
    // script ends the session early when its input reaches EOF first.
    const child = spawn("script", ["-qec", cmd, "/dev/null"], {
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "docker-config"), COLUMNS: "100", LINES: "30" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdin.end();
    assert.equal(code, 0, out);
    assert.match(out, /\/dev\/pts\/\d+/);
    assert.match(out, /done/);
    const piped = await exec(DOCKER, ["-H", d.host, "exec", "-i", "box", "sh", "-c", "cat; echo end"], {
      env: { DOCKER_CONFIG: join(d.dir, "docker-config") },
      input: "from stdin\n",
    });
    assert.equal(piped.stdout, "from stdin\nend\n");
    const detached = await ok(d, ["exec", "-d", "box", "sh", "-c", "echo bg > /bg"]);
    assert.equal(detached, "");
  });
});
