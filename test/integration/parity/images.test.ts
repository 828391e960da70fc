/**
 * Images on wharf and, when installed, on dockerd 20.10 side by side: `docker rmi` of an image that has child
 * images (by name it only untags, the image stays for its child; by ID it is a conflict no force overrides),
 * and hard links in a build context, which the classic builder's COPY keeps as links.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { link, mkdir, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { DOCKER, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { type EnginePair, startEnginePair } from "../../helpers/dockerd.ts";
import { tempTree } from "../../helpers/tree.ts";

let pair: EnginePair | undefined;
let alone: TestDaemon | undefined;

before(async () => {
  pair = await startEnginePair("pimg");
  if (!pair) {
    alone = await startDaemon({ name: "pimg" });
    await importBusybox(alone);
  }
});
after(async () => {
  await pair?.stop();
  await alone?.stop();
});

/** The engines to run against (their -H): wharf, and dockerd when this machine has it. */
function engines(): [string, string][] {
  const out: [string, string][] = [];
  const w = pair?.wharf ?? alone;
  if (w) out.push(["wharf", w.host]);
  if (pair?.dockerd) out.push(["dockerd", pair.dockerd.host]);
  return out;
}

async function ok(host: string, args: string[]): Promise<string> {
  const r = await exec(DOCKER, ["-H", host, ...args]);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** What `rmi` printed and its exit code, with the engine's own image ID written as <id>. */
async function rmi(host: string, args: string[], id: string): Promise<string> {
  const r = await exec(DOCKER, ["-H", host, "rmi", ...args]);
  const short = id.replace(/^sha256:/, "").slice(0, 12);
  return `${r.code} ${(r.stdout + r.stderr).replaceAll(id, "<id>").replaceAll(short, "<id>").trim()}`;
}

test("rmi of an image with a child: by name untags, by ID (forced or not) is refused", {
  skip: !existsSync(DOCKER),
}, async () => {
  const seen = new Map<string, string[]>();
  for (const [name, h] of engines()) {
    await ok(h, ["run", "--name", "pimg-a", "busybox", "sh", "-c", "echo a > /a"]);
    await ok(h, ["commit", "pimg-a", "pimg-parent:1"]);
    await ok(h, ["run", "--name", "pimg-b", "pimg-parent:1", "sh", "-c", "echo b > /b"]);
    await ok(h, ["commit", "pimg-b", "pimg-child:1"]);
    await ok(h, ["rm", "pimg-a", "pimg-b"]);
    const id = await ok(h, ["image", "inspect", "-f", "{{.Id}}", "pimg-parent:1"]);
    const out = [
      await rmi(h, ["-f", id], id),
      await rmi(h, [id], id),
      await rmi(h, ["pimg-parent:1"], id),
      // Still there for its child, nameless now.
      await ok(h, ["image", "inspect", "-f", "{{len .RepoTags}}", id]),
      await rmi(h, ["pimg-child:1"], id),
    ];
    seen.set(name, out);
    assert.match(
      out[0] ?? "",
      /^1 Error response from daemon: conflict: unable to delete <id> \(cannot be forced\) - image has dependent child images$/,
    );
    assert.equal(out[1], out[0]);
    assert.equal(out[2], "0 Untagged: pimg-parent:1");
    assert.equal(out[3], "0");
    assert.match(out[4] ?? "", /^0 Untagged: pimg-child:1\nDeleted: sha256:/);
  }
  const w = seen.get("wharf");
  const dd = seen.get("dockerd");
  if (w && dd) assert.deepEqual(w.slice(0, 4), dd.slice(0, 4));
});

test("hard links in a build context stay links through the classic builder's COPY", {
  skip: !existsSync(DOCKER),
}, async () => {
  const ctx = await tempTree({
    Dockerfile:
      'FROM busybox\nCOPY . /c/\nCOPY a /one\nRUN cd /c && stat -c "%n %h" a b d/c && [ "$(stat -c %i a)" = "$(stat -c %i d/c)" ] && echo same\n',
    a: "hi\n",
  });
  await mkdir(`${ctx}/d`);
  await link(`${ctx}/a`, `${ctx}/b`);
  await link(`${ctx}/a`, `${ctx}/d/c`);
  await writeFile(`${ctx}/.dockerignore`, "Dockerfile\n");
  const seen = new Map<string, string>();
  for (const [name, h] of engines()) {
    const r = await exec(DOCKER, ["-H", h, "build", "--no-cache", "-t", "pimg-links", ctx], {
      env: { DOCKER_BUILDKIT: "0" },
    });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    const lines = r.stdout.split("\n").filter((l) => /^(\S+ \d+|same)$/.test(l));
    seen.set(name, lines.join("\n"));
    // A file copied on its own is a file of its own.
    assert.equal(await ok(h, ["run", "--rm", "pimg-links", "stat", "-c", "%h", "/one"]), "1");
  }
  assert.equal(seen.get("wharf"), "a 3\nb 3\nd/c 3\nsame");
  if (seen.has("dockerd")) assert.equal(seen.get("dockerd"), seen.get("wharf"));
});
