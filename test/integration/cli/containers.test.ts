/** wharf's container commands against a real daemon, output compared with the docker CLI's. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DOCKER,
  docker,
  exec,
  freePort,
  importBusybox,
  startDaemon,
  type TestDaemon,
  wharf,
} from "../../helpers/daemon.ts";
import { same } from "./same.ts";

let d: TestDaemon;
let work: string;

before(async () => {
  d = await startDaemon({ name: "clictr" });
  await importBusybox(d);
  work = await mkdtemp(join(tmpdir(), "wcli-ctr-"));
  const r = await wharf(d, [
    "run",
    "-d",
    "--name",
    "box",
    "-p",
    `127.0.0.1:${await freePort()}:80`,
    "busybox",
    "sleep",
    "1000",
  ]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await d?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("container commands", { skip: !existsSync(DOCKER) }, () => {
  test("exec: output, exit codes, env/workdir/user, stdin, detach, errors", async () => {
    await same(d, ["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    await same(d, [
      "exec",
      "-e",
      "A=b",
      "-w",
      "/tmp",
      "-u",
      "1000",
      "box",
      "sh",
      "-c",
      "echo $A $(pwd) $(id -u)",
    ]);
    await same(d, ["exec", "-i", "box", "sh", "-c", "cat; echo done"], { input: "one\ntwo\n" });
    await same(d, ["exec", "nope", "true"]);
    await same(d, ["exec", "box"]);
    const r = await wharf(d, ["exec", "-d", "box", "sh", "-c", "echo bg > /tmp/bg"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    let seen = "";
    for (let i = 0; i < 50 && seen !== "bg\n"; i++)
      seen = (await wharf(d, ["exec", "box", "cat", "/tmp/bg"])).stdout;
    assert.equal(seen, "bg\n");
  });

  test("exec -t needs a terminal for stdin, as docker says", async () => {
    await same(d, ["exec", "-it", "box", "true"]);
  });

  test("attach: refuses stopped containers; streams output and the exit code", async () => {
    await wharf(d, ["create", "--name", "stopped", "busybox", "true"]);
    await same(d, ["attach", "stopped"]);
    await same(d, ["attach", "nope"]);
    const run = await wharf(d, [
      "run",
      "-d",
      "--name",
      "att",
      "busybox",
      "sh",
      "-c",
      "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo late; exit 4",
    ]);
    assert.equal(run.code, 0, run.stderr);
    // The output comes once the attach is in place (its event seen), not after a pause that load can outlast.
    const since = (Date.now() / 1000 - 5).toFixed(3);
    const attached = wharf(d, ["attach", "att"]);
    const filters = encodeURIComponent(JSON.stringify({ event: ["attach"], container: ["att"] }));
    for (let seen = false; !seen; ) {
      const q = `since=${since}&until=${(Date.now() / 1000).toFixed(3)}&filters=${filters}`;
      const ev = await exec("curl", ["-sf", "--unix-socket", d.socket, `http://x/events?${q}`]);
      seen = ev.stdout.includes('"attach"');
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await docker(d, ["exec", "att", "touch", "/tmp/go"])).code, 0);
    const a = await attached;
    assert.equal(a.stdout, "late\n");
    assert.equal(a.code, 4);
  });

  test("top, pause/unpause, port, rename, update, diff", async () => {
    // C is ps's CPU use, which can tick between the two runs; times differ by when each client asked.
    const maskTop = (s: string) =>
      s.replace(/\d\d:\d\d(:\d\d)?/g, "T").replace(/^(\S+\s+\d+\s+\d+\s+)\d+\s+/gm, "$1C ");
    await same(d, ["top", "box"], { map: maskTop });
    await same(d, ["top", "box", "-o", "pid,comm"]);
    await same(d, ["top", "nope"]);
    assert.equal((await wharf(d, ["pause", "box"])).stdout, "box\n");
    await same(d, ["pause", "box"]);
    assert.equal((await wharf(d, ["unpause", "box"])).stdout, "box\n");
    await same(d, ["unpause", "box"]);
    await same(d, ["port", "box"]);
    await same(d, ["port", "box", "80"]);
    await same(d, ["port", "box", "81/udp"]);
    await same(d, ["update", "box"]);
    await same(d, ["update", "--pids-limit", "50", "box"]);
    await same(d, ["update", "--restart", "bogus", "box"]);
    await wharf(d, [
      "exec",
      "box",
      "sh",
      "-c",
      "mkdir -p /tmp/dd && touch /tmp/dd/f && rm -f /etc/hostname.x",
    ]);
    await same(d, ["diff", "box"]);
    assert.equal((await wharf(d, ["rename", "box", "box2"])).code, 0);
    await same(d, ["rename", "box", "box3"]);
    assert.equal((await wharf(d, ["rename", "box2", "box"])).code, 0);
    await same(d, ["rename", "box", ""]);
  });

  test("stats --no-stream: columns and values computed as docker does", async () => {
    const fmt = "{{.Container}} {{.Name}} {{.ID}} {{.MemPerc}} {{.PIDs}} {{.BlockIO}}";
    await same(d, ["stats", "--no-stream", "--format", fmt, "box"]);
    const w = await wharf(d, ["stats", "--no-stream", "box"]);
    assert.match(
      w.stdout,
      /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12} +box +\d+\.\d\d% +[\d.]+[KMG]?i?B \/ [\d.]+[KMG]?i?B +\d+\.\d\d% +\S+ \/ \S+ +\S+ \/ \S+ +1\n$/,
    );
    await same(d, ["stats", "--no-stream", "nope"]);
    const all = await wharf(d, ["stats", "--no-stream", "--format", "{{.Name}}"]);
    assert.match(all.stdout, /^box$/m);
  });

  test("cp both ways: into a directory, onto a new name, contents with /., tar streams, errors", async () => {
    const src = join(work, "src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "a.txt"), "a\n");
    await writeFile(join(src, "sub", "b.txt"), "b\n");
    await symlink("a.txt", join(src, "link"));
    for (const [tool, dir] of [
      [wharf, "w"],
      [docker, "k"],
    ] as const) {
      await wharf(d, ["exec", "box", "mkdir", "-p", `/cp/${dir}`]);
      for (const [from, to] of [
        [src, `box:/cp/${dir}/`],
        [join(src, "a.txt"), `box:/cp/${dir}/new.txt`],
        [`${src}/.`, `box:/cp/${dir}/contents`],
        [src, `box:/cp/${dir}/renamed`],
      ]) {
        const r = await tool(d, ["cp", from, to]);
        assert.equal(r.code, 0, `${from} ${to}: ${r.stderr}`);
      }
    }
    const list = async (dir: string) =>
      (await wharf(d, ["exec", "box", "sh", "-c", `cd /cp/${dir} && find . | sort && readlink src/link`]))
        .stdout;
    assert.equal(await list("w"), await list("k"));
    for (const [tool, dir] of [
      [wharf, "w"],
      [docker, "k"],
    ] as const) {
      const out = join(work, `out-${dir}`);
      await mkdir(out);
      for (const [from, to] of [
        [`box:/cp/${dir}/src`, `${out}/`],
        [`box:/cp/${dir}/src/a.txt`, `${out}/x.txt`],
        [`box:/cp/${dir}/src/.`, `${out}/contents`],
        [`box:/cp/${dir}/src/link`, `${out}/lnk`],
      ]) {
        const r = await tool(d, ["cp", from, to]);
        assert.equal(r.code, 0, `${from} ${to}: ${r.stderr}`);
      }
      const r = await tool(d, ["cp", "-L", `box:/cp/${dir}/src/link`, `${out}/followed`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const tree = async (dir: string) =>
      (
        await exec("sh", [
          "-c",
          `cd ${join(work, dir)} && find . | sort && readlink src/link lnk; cat followed`,
        ])
      ).stdout;
    assert.equal(await tree("out-w"), await tree("out-k"));
    assert.equal(await readFile(join(work, "out-w", "x.txt"), "utf8"), "a\n");
    await same(d, ["cp", "box:/etc/hostname", "-"], { map: (s) => s.replace(/\d{11}/g, "MTIME") });
    const tarIn = await exec(
      "sh",
      ["-c", `tar c -C ${src} a.txt | ${join(process.cwd(), "bin/wharf")} cp - box:/cp/w/`],
      {
        env: { WHARF_HOST: d.host },
      },
    );
    assert.equal(tarIn.code, 0, tarIn.stderr);
    assert.equal((await wharf(d, ["exec", "box", "cat", "/cp/w/a.txt"])).stdout, "a\n");
    await same(d, ["cp", "box:/nope", work]);
    await same(d, ["cp", join(work, "nope"), "box:/tmp"]);
    await same(d, ["cp", "a", "b"]);
    await same(d, ["cp", "box:/a", "box:/b"]);
    await same(d, ["cp", "box:/etc/hostname", join(work, "nodir", "x")]);
    await same(d, ["cp", "nope:/etc/hostname", work]);
  });

  test("commit with -c and -m, then history shows it", async (t) => {
    const c = await wharf(d, [
      "commit",
      "-c",
      "ENV COMMITTED=1",
      "-m",
      "msg",
      "-a",
      "me",
      "box",
      "committed:v1",
    ]);
    if (/page not found/.test(c.stderr)) return t.skip("the daemon has no commit endpoint yet");
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const i = await wharf(d, [
      "image",
      "inspect",
      "-f",
      "{{.Author}} {{.Comment}} {{.Config.Env}}",
      "committed:v1",
    ]);
    assert.match(i.stdout, /^me msg \[.*COMMITTED=1.*\]\n$/);
    await same(d, ["history", "committed:v1"], {
      map: (s) =>
        // Ages differ between two runs a second apart, and so do the column widths they set.
        s
          .replace(/\d+ (seconds?|minutes?|hours?) ago|About an? \w+ ago|Less than a second ago/g, "AGO")
          .replace(/ {2,}/g, "  "),
    });
    await same(d, [
      "history",
      "--no-trunc",
      "-H=false",
      "--format",
      "{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}",
      "committed:v1",
    ]);
    await same(d, ["commit", "nope"]);
  });

  test("events: --since/--until replay, filters and --format", async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await wharf(d, ["run", "--rm", "--name", "ev", "busybox", "true"]);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const args = ["events", "--since", since, "--until", until, "--filter", "container=ev"];
    await same(d, args);
    await same(d, [...args, "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}}"]);
    await same(d, [...args, "--format", "json"]);
    await same(d, [
      ...args,
      "--filter",
      "event=die",
      "--format",
      "{{.Action}} {{.Actor.Attributes.exitCode}}",
    ]);
  });

  test("container prune and export", async () => {
    await wharf(d, ["create", "--name", "gone1", "busybox"]);
    const p = await wharf(d, ["container", "prune", "-f"]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: \S+\n$/);
    await same(d, ["container", "prune", "-f"]);
    await same(d, ["container", "prune"], { input: "n\n" });
    const tar = join(work, "box.tar");
    assert.equal((await wharf(d, ["export", "-o", tar, "box"])).code, 0);
    const t = await exec("tar", ["tf", tar]);
    assert.match(t.stdout, /^bin\/busybox$/m);
    await same(d, ["export", "nope"]);
  });

  test("container group aliases", async () => {
    await same(d, ["container", "ls", "--format", "{{.Names}}"]);
    await same(d, ["container", "inspect", "-f", "{{.Name}}", "box"]);
    await same(d, ["container", "top", "box", "-o", "comm"]);
  });
});
