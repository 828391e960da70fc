import assert from "node:assert/strict";
import { test } from "node:test";
import { isInvalidParameter } from "../errdefs/index.ts";
import { applyChanges } from "./changes.ts";

test("Dockerfile-style changes set the run config", () => {
  const cfg = applyChanges({ Env: ["PATH=/bin"] }, [
    'CMD ["sh", "-c", "echo hi"]',
    "ENTRYPOINT /entry.sh --flag",
    "ENV A=1 B=\"two words\" C='$A'",
    "ENV LEGACY some value",
    "WORKDIR /srv",
    "WORKDIR app",
    "USER wharf:wharf",
    'LABEL com.example.a=1 "com.example.b"="x y"',
    "EXPOSE 80 53/udp 8000-8001",
    'VOLUME ["/data", "/logs"]',
    "VOLUME /cache",
    "STOPSIGNAL SIGINT",
    "HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/",
    "ONBUILD run echo x",
  ]);
  // ENTRYPOINT after CMD in the same change set keeps the CMD.
  assert.deepEqual(cfg.Cmd, ["sh", "-c", "echo hi"]);
  assert.deepEqual(cfg.Entrypoint, ["/bin/sh", "-c", "/entry.sh --flag"]);
  assert.deepEqual(cfg.Env, ["PATH=/bin", "A=1", "B=two words", "C=$A", "LEGACY=some value"]);
  assert.equal(cfg.WorkingDir, "/srv/app");
  assert.equal(cfg.User, "wharf:wharf");
  assert.deepEqual(cfg.Labels, { "com.example.a": "1", "com.example.b": "x y" });
  assert.deepEqual(Object.keys(cfg.ExposedPorts ?? {}), ["80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
  assert.deepEqual(Object.keys(cfg.Volumes ?? {}), ["/data", "/logs", "/cache"]);
  assert.equal(cfg.StopSignal, "SIGINT");
  assert.deepEqual(cfg.Healthcheck, {
    Interval: 5_000_000_000,
    Retries: 3,
    Test: ["CMD-SHELL", "curl -f http://localhost/"],
  });
  assert.deepEqual(cfg.OnBuild, ["RUN echo x"]);
});

test("ENTRYPOINT alone resets an inherited CMD; ENV replaces and expands", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile variable syntax, not a JS template
  const cfg = applyChanges({ Cmd: ["old"], Env: ["X=1"] }, ['ENTRYPOINT ["/e"]', "ENV X=2 Y=${X}-y"]);
  assert.equal(cfg.Cmd, null);
  assert.deepEqual(cfg.Env, ["X=2", "Y=1-y"]);
});

test("instructions that are not valid changes are refused", () => {
  for (const bad of ["RUN echo", "FROM busybox", "COPY a b", "EXPOSE abc", "ENV", "SHELL sh"]) {
    assert.throws(
      () => applyChanges({}, [bad]),
      (e) => isInvalidParameter(e),
      bad,
    );
  }
  assert.throws(() => applyChanges({}, ["RUN x"]), /run is not a valid change command/);
});
