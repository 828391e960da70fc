import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pluginHost, splitPluginArgv } from "./plugin.ts";

test("docker's global flags come before `compose`, in any of their spellings", () => {
  const { globals, rest } = splitPluginArgv([
    "-H",
    "unix:///a",
    "--log-level=warn",
    "-D",
    "compose",
    "-f",
    "x",
    "up",
  ]);
  assert.equal(globals.get("-H"), "unix:///a");
  assert.equal(globals.get("--log-level"), "warn");
  assert.equal(globals.get("-D"), "true");
  assert.deepEqual(rest, ["-f", "x", "up"]);
  assert.deepEqual(splitPluginArgv(["compose"]).rest, []);
});

test("the daemon is -H, else DOCKER_HOST, else the context in use, else WHARF_HOST", () => {
  const config = mkdtempSync(join(tmpdir(), "wharf-plugin-"));
  const meta = join(config, "contexts/meta", createHash("sha256").update("w").digest("hex"));
  mkdirSync(meta, { recursive: true });
  writeFileSync(
    join(meta, "meta.json"),
    JSON.stringify({ Name: "w", Endpoints: { docker: { Host: "unix:///ctx" } } }),
  );
  const g = (argv: string[]) => splitPluginArgv([...argv, "compose"]).globals;
  assert.equal(pluginHost(g(["-H", "unix:///a"]), { DOCKER_HOST: "unix:///b" }), "unix:///a");
  assert.equal(pluginHost(g([]), { DOCKER_HOST: "unix:///b" }), "unix:///b");
  assert.equal(pluginHost(g(["--context", "w"]), { DOCKER_CONFIG: config }), "unix:///ctx");
  assert.equal(pluginHost(g([]), { DOCKER_CONFIG: config, DOCKER_CONTEXT: "w" }), "unix:///ctx");
  writeFileSync(join(config, "config.json"), JSON.stringify({ currentContext: "w" }));
  assert.equal(pluginHost(g([]), { DOCKER_CONFIG: config }), "unix:///ctx");
  assert.equal(
    pluginHost(g(["-c", "default"]), { DOCKER_CONFIG: config, WHARF_HOST: "unix:///w" }),
    "unix:///w",
  );
});
