import assert from "node:assert/strict";
import { it, describe as suite } from "node:test";
import { parseComposeYaml, untag } from "../yaml.ts";
import { corpus } from "./corpus.ts";
import { composeFile, describe, pick, showPath, violationsOf } from "./index.ts";

function check(yaml: string) {
  const found = violationsOf(composeFile, untag(parseComposeYaml(yaml, "compose.yaml")));
  return { found, message: describe(found) };
}

suite("compose file validators", () => {
  it("give each file of the corpus its verdict and the path of its first error", () => {
    const wrong: string[] = [];
    for (const c of corpus) {
      const { found, message } = check(c.yaml);
      const v = pick(found);
      const got = v ? showPath(v.path) : undefined;
      if (got !== c.error) wrong.push(`${c.name}: want ${c.error ?? "valid"}, got ${message ?? "valid"}`);
    }
    assert.deepEqual(wrong, []);
  });

  it("word the error as docker compose does", () => {
    const msg = (yaml: string) => check(yaml).message;
    const web = (line: string) => msg(`services:\n  web:\n    image: x\n    ${line}\n`);
    assert.equal(msg("servics: {}\n"), "(root) additional properties 'servics' not allowed");
    assert.equal(web("ports: [[80]]"), "services.web.ports[0] must be a number, string or object");
    assert.equal(web("volumes: [{source: a}]"), "services.web.volumes[0] missing property 'type'");
    assert.equal(
      web("depends_on: {db: {condition: sometimes}}"),
      'services.web.depends_on.db.condition must be one of "service_started", "service_healthy", "service_completed_successfully"',
    );
    assert.equal(web("cap_add: [A, B, A]"), "services.web.cap_add array items[0,2] must be unique");
    assert.equal(web("cpu_percent: 101"), "services.web.cpu_percent must be <= 100");
    assert.equal(web("cpu_count: -1"), "services.web.cpu_count must be >= 0");
    assert.equal(
      web("ulimits: {nofile: [1]}"),
      "services.web.ulimits.nofile must be a number, string or object",
    );
    assert.equal(web("command: 5"), "services.web.command must be a null, string or array");
    assert.equal(
      web("pull_policy: sometimes"),
      'services.web.pull_policy does not match pattern "always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+"',
    );
    assert.equal(msg("services:\n  web:\n"), "services.web must be a object");
    assert.equal(
      msg("services: {web: {image: x}}\nnetworks: {n: 5}\n"),
      "networks.n must be a object or null",
    );
  });

  it("find nothing wrong with a valid file", () => {
    assert.deepEqual(check("services:\n  web: {image: x, ports: [80]}\n").found, []);
  });
});
