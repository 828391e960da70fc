import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CommandSpec, HelpRequested, parseArgs, UsageError, usageErrorText } from "./args.ts";
import { RUN_FLAGS } from "./runflags.ts";

const run: CommandSpec = {
  name: "run",
  usage: "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
  desc: "",
  flags: RUN_FLAGS,
  interspersed: false,
  minArgs: 1,
};
const stop: CommandSpec = {
  name: "stop",
  usage: "stop [OPTIONS] CONTAINER [CONTAINER...]",
  desc: "",
  minArgs: 1,
  flags: [{ name: "timeout", short: "t", type: "int", desc: "", aliases: ["time"] }],
};

describe("parseArgs: pflag syntax", () => {
  it("combines shorthand booleans and stops at the image", () => {
    const p = parseArgs(run, [
      "-it",
      "--rm",
      "-e",
      "A=1",
      "-eB=2",
      "--name=x",
      "alpine",
      "sh",
      "-c",
      "echo -e hi",
    ]);
    assert.equal(p.flags.interactive, true);
    assert.equal(p.flags.tty, true);
    assert.equal(p.flags.rm, true);
    assert.deepEqual(p.flags.env, ["A=1", "B=2"]);
    assert.equal(p.flags.name, "x");
    assert.deepEqual(p.args, ["alpine", "sh", "-c", "echo -e hi"]);
  });
  it("takes a shorthand value glued or with =", () => {
    const p = parseArgs(run, ["-p8080:80", "-e=K=V", "-dit", "img"]);
    assert.deepEqual(p.flags.publish, ["8080:80"]);
    assert.deepEqual(p.flags.env, ["K=V"]);
    assert.equal(p.flags.detach, true);
  });
  it("reads bool values and --", () => {
    const p = parseArgs(run, ["--sig-proxy=false", "--rm=true", "--", "img", "--rm"]);
    assert.equal(p.flags["sig-proxy"], false);
    assert.deepEqual(p.args, ["img", "--rm"]);
  });
  it("accepts flag aliases and ints", () => {
    const p = parseArgs(stop, ["--time", "3", "a", "b"]);
    assert.equal(p.flags.timeout, 3);
    assert.deepEqual(p.args, ["a", "b"]);
    assert.deepEqual(parseArgs(stop, ["a", "-t", "5"]).flags.timeout, 5);
  });
  it("words errors like docker", () => {
    assert.throws(() => parseArgs(run, ["--foo"]), { message: "unknown flag: --foo", code: 125 });
    assert.throws(() => parseArgs(run, ["-z"]), { message: "unknown shorthand flag: 'z' in -z" });
    assert.throws(() => parseArgs(run, ["-e"]), { message: "flag needs an argument: 'e' in -e" });
    assert.throws(() => parseArgs(run, ["--name"]), { message: "flag needs an argument: --name" });
    assert.throws(() => parseArgs(stop, ["-t", "x", "a"]), {
      message: 'invalid argument "x" for "-t, --timeout" flag: strconv.ParseInt: parsing "x": invalid syntax',
    });
    assert.throws(
      () => parseArgs(run, []),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.code, 1);
        assert.equal(
          usageErrorText(e),
          "wharf: 'wharf run' requires at least 1 argument\n\nUsage:  wharf run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'wharf run --help' for more information\n",
        );
        return true;
      },
    );
    assert.throws(() => parseArgs(run, ["--help"]), HelpRequested);
    // In run, -h is --hostname, as in docker.
    assert.throws(() => parseArgs(run, ["-h"]), { message: "flag needs an argument: 'h' in -h" });
    assert.throws(() => parseArgs(stop, ["-h"]), HelpRequested);
  });
});
