/**
 * The parity script of issue 18: one list of docker CLI commands, run in order against a wharf daemon and,
 * when docker.io is installed, against a dockerd of this test's own, their exit codes and outputs compared
 * after masking IDs, times and sizes. A difference fails the test unless ACCEPTED names the step with the
 * reason. Without dockerd, the steps still run against wharf and must not fail where a step says so.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER, exec, importBusybox, startDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { startDockerd, type TestDockerd } from "../helpers/dockerd.ts";

/** One docker CLI call; `ok` says it must exit 0 (checked against wharf even without dockerd). */
interface Step {
  name: string;
  args: string[];
  ok?: boolean;
  /** Compare the lines as a set (listings whose order is not defined). */
  unordered?: boolean;
}

const NN = ["--network", "none"];

const STEPS: Step[] = [
  { name: "run echo", args: ["run", "--rm", ...NN, "busybox", "echo", "hi"], ok: true },
  {
    name: "run exit code",
    args: ["run", "--rm", ...NN, "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"],
  },
  { name: "run stdin", args: ["run", "--rm", ...NN, "-i", "busybox", "wc", "-c"] },
  {
    name: "run user and groups",
    args: ["run", "--rm", ...NN, "-u", "1000", "--group-add", "mail", "busybox", "id"],
  },
  {
    name: "run env and workdir",
    args: ["run", "--rm", ...NN, "-e", "A=1", "-w", "/w/x", "busybox", "sh", "-c", "echo $A $(pwd) $HOME"],
  },
  { name: "run missing command", args: ["run", "--rm", ...NN, "busybox", "nosuchcmd"] },
  { name: "run bad memory", args: ["run", "--rm", ...NN, "-m", "1k", "busybox", "true"] },
  { name: "run bad oom score", args: ["create", ...NN, "--oom-score-adj", "5000", "busybox"] },
  {
    name: "run missing device",
    args: ["run", "--rm", ...NN, "--device", "/dev/wharf-none", "busybox", "true"],
  },
  { name: "run storage-opt", args: ["run", "--rm", ...NN, "--storage-opt", "size=1m", "busybox", "true"] },
  { name: "run missing link", args: ["run", "--rm", "--link", "nosuch:db", "busybox", "true"] },
  {
    name: "run missing container network",
    args: ["run", "--rm", "--network", "container:nosuch", "busybox", "true"],
  },
  {
    name: "create",
    args: ["create", "--name", "p1", ...NN, "-e", "A=1", "-l", "k=v", "busybox", "sleep", "300"],
    ok: true,
  },
  {
    name: "inspect created",
    args: [
      "inspect",
      "-f",
      "{{.Config.Env}} {{.Config.Labels}} {{.HostConfig.NetworkMode}} {{.State.Status}} {{.Path}} {{.Args}}",
      "p1",
    ],
    ok: true,
  },
  { name: "start", args: ["start", "p1"], ok: true },
  { name: "start again", args: ["start", "p1"], ok: true },
  {
    name: "ps",
    args: ["ps", "--filter", "name=p1", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.Status}}"],
    ok: true,
  },
  { name: "exec id", args: ["exec", "p1", "id"], ok: true },
  { name: "exec user", args: ["exec", "-u", "1000:1000", "p1", "id"], ok: true },
  { name: "exec exit code", args: ["exec", "p1", "sh", "-c", "exit 7"] },
  { name: "exec missing command", args: ["exec", "p1", "nosuchcmd"] },
  { name: "rename", args: ["rename", "p1", "p2"], ok: true },
  { name: "ps after rename", args: ["ps", "-a", "--filter", "name=p", "--format", "{{.Names}}"], ok: true },
  { name: "update bad restart", args: ["update", "--restart", "sometimes", "p2"] },
  { name: "pause", args: ["pause", "p2"], ok: true },
  { name: "exec paused", args: ["exec", "p2", "true"] },
  { name: "unpause", args: ["unpause", "p2"], ok: true },
  { name: "stop", args: ["stop", "-t", "1", "p2"], ok: true },
  {
    name: "inspect stopped",
    args: ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "p2"],
    ok: true,
  },
  { name: "exec stopped", args: ["exec", "p2", "true"] },
  { name: "wait stopped", args: ["wait", "p2"], ok: true },
  {
    name: "changes",
    args: ["run", "--name", "c1", ...NN, "busybox", "sh", "-c", "echo x > /f; mkdir -p /d/e; rm /etc/passwd"],
    ok: true,
  },
  { name: "diff", args: ["diff", "c1"], ok: true, unordered: true },
  { name: "logs", args: ["logs", "c1"], ok: true },
  { name: "commit", args: ["commit", "-m", "msg", "-c", "ENV B=2", "c1", "parity:c"], ok: true },
  {
    name: "image inspect committed",
    args: [
      "image",
      "inspect",
      "-f",
      "{{.Config.Env}} {{.Config.Cmd}} {{.Comment}} {{.Config.Image}}",
      "parity:c",
    ],
    ok: true,
  },
  { name: "history", args: ["history", "--format", "{{.CreatedBy}}|{{.Comment}}", "parity:c"], ok: true },
  { name: "images", args: ["images", "--format", "{{.Repository}}:{{.Tag}}"], ok: true, unordered: true },
  { name: "tag", args: ["tag", "parity:c", "parity:d"], ok: true },
  { name: "rmi tag", args: ["rmi", "parity:d"], ok: true },
  { name: "create from committed", args: ["create", "--name", "fromc", ...NN, "parity:c"], ok: true },
  { name: "rmi used", args: ["rmi", "parity:c"] },
  { name: "port none", args: ["port", "c1"], ok: true },
  { name: "top stopped", args: ["top", "c1"] },
  { name: "volume create", args: ["volume", "create", "--label", "a=b", "pv"], ok: true },
  {
    name: "volume inspect",
    args: ["volume", "inspect", "-f", "{{.Driver}} {{.Labels}} {{.Scope}} {{.Name}}", "pv"],
    ok: true,
  },
  {
    name: "volume in use",
    args: ["run", "--name", "vuser", ...NN, "-v", "pv:/data", "busybox", "sh", "-c", "echo v > /data/f"],
    ok: true,
  },
  { name: "volume rm in use", args: ["volume", "rm", "pv"] },
  { name: "volume ls", args: ["volume", "ls", "--format", "{{.Driver}} {{.Name}}"], ok: true },
  { name: "network create", args: ["network", "create", "--label", "n=1", "pnet"], ok: true },
  {
    name: "network inspect",
    args: [
      "network",
      "inspect",
      "-f",
      "{{.Driver}} {{.Scope}} {{.Internal}} {{.Attachable}} {{.Labels}} {{.EnableIPv6}}",
      "pnet",
    ],
    ok: true,
  },
  { name: "network duplicate", args: ["network", "create", "pnet"] },
  { name: "network rm", args: ["network", "rm", "pnet"], ok: true },
  { name: "inspect missing", args: ["inspect", "nosuch"] },
  { name: "rm missing", args: ["rm", "nosuch"] },
  { name: "stop missing", args: ["stop", "nosuch"] },
  { name: "logs missing", args: ["logs", "nosuch"] },
  { name: "rmi missing", args: ["rmi", "nosuch:1"] },
  { name: "volume rm missing", args: ["volume", "rm", "nosuch"] },
  { name: "network rm missing", args: ["network", "rm", "nosuch"] },
  { name: "rm all", args: ["rm", "-f", "p2", "c1", "vuser", "fromc"], ok: true },
  { name: "volume rm", args: ["volume", "rm", "pv"], ok: true },
  { name: "rmi", args: ["rmi", "parity:c"], ok: true },
];

/** Steps whose outputs may differ from dockerd 20.10's, and why. */
const ACCEPTED: Record<string, string> = {
  "run missing command":
    "dockerd 20.10 goes through containerd and prefixes runc's error with 'failed to create shim task: '; wharf drives runc directly",
  "exec missing command":
    "dockerd 20.10 words a missing exec binary through containerd's shim ('OCI runtime exec failed: ... unknown'); wharf passes runc's text",
  "update bad restart":
    "dockerd 20.10 says \"invalid restart policy 'sometimes'\"; wharf answers with current moby's longer text",
};

/** Masks what differs between any two runs: IDs, times, sizes, durations. */
function mask(s: string): string {
  return s
    .replace(/sha256:[0-9a-f]{64}/g, "<digest>")
    .replace(/\b[0-9a-f]{64}\b/g, "<id>")
    .replace(/\b[0-9a-f]{12}\b/g, "<id>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, "<time>")
    .replace(/(Less than a second|About a minute|About an hour|\d+ (seconds|minutes|hours)) ago/g, "<ago>")
    .replace(/Up (Less than a second|About a minute|\d+ seconds?|\d+ minutes?)/g, "Up <t>")
    .replace(/\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB)\b/g, "<size>");
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function runSteps(host: string, config: string): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  for (const s of STEPS) {
    const r = await exec(DOCKER, ["-H", host, ...s.args], {
      env: { DOCKER_CONFIG: config },
      input: s.name === "run stdin" ? "abcdef" : undefined,
    });
    const norm = (t: string) => {
      const m = mask(t).replace(/docker: /g, "");
      return s.unordered ? m.split("\n").filter(Boolean).sort().join("\n") : m;
    };
    out.set(s.name, { code: r.code, stdout: norm(r.stdout), stderr: norm(r.stderr) });
  }
  return out;
}

let w: TestDaemon;
let dd: TestDockerd | undefined;
let config: string;

before(async () => {
  config = await mkdtemp(join(tmpdir(), "wt-parity-cfg-"));
  [w, dd] = await Promise.all([startDaemon({ name: "parity-script" }), startDockerd("parity")]);
  await Promise.all([importBusybox(w), dd ? importBusybox(dd) : undefined]);
});
after(async () => {
  await Promise.all([w?.stop(), dd?.stop()]);
  await rm(config, { recursive: true, force: true });
});

describe("docker CLI parity script (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("every step gives what dockerd gives, or is accepted with a reason", async (t) => {
    const [ours, theirs] = await Promise.all([
      runSteps(w.host, config),
      dd ? runSteps(dd.host, config) : Promise.resolve(undefined),
    ]);
    const failures: string[] = [];
    for (const s of STEPS) {
      const a = ours.get(s.name);
      if (!a) continue;
      if (s.ok && a.code !== 0) failures.push(`${s.name}: wharf exited ${a.code}: ${a.stderr}`);
      const b = theirs?.get(s.name);
      if (!b) continue;
      const same = a.code === b.code && a.stdout === b.stdout && a.stderr === b.stderr;
      if (s.name in ACCEPTED) {
        if (same) t.diagnostic(`accepted difference no longer differs: ${s.name}`);
        continue;
      }
      if (!same)
        failures.push(
          `${s.name} (docker ${s.args.join(" ")}):\n  wharf:   ${JSON.stringify(a)}\n  dockerd: ${JSON.stringify(b)}`,
        );
    }
    assert.deepEqual(failures, []);
    for (const name of Object.keys(ACCEPTED))
      assert.ok(
        STEPS.some((s) => s.name === name),
        `accepted difference for a step that is not there: ${name}`,
      );
  });
});
