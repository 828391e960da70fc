// biome-ignore-all lint/suspicious/noExplicitAny: tests read Docker's JSON documents field by field
/** Shared helpers of the lifecycle tests: a docker call that must succeed, and polling for a condition. */
import assert from "node:assert/strict";
import { api, docker, type TestDaemon } from "../../helpers/daemon.ts";

/** Runs the docker CLI and returns its trimmed stdout; fails the test with stderr on a non-zero exit. */
export async function ok(d: TestDaemon, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(d, args, opts);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Polls `fn` until it returns a truthy value (every 50 ms, up to `timeoutMs`). */
export async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The container's inspect document. */
export function inspect(d: TestDaemon, id: string): Promise<Record<string, any>> {
  return api<Record<string, any>>(d, "GET", `/containers/${id}/json`);
}

/** Events between two times (seconds since the epoch, as strings), through the API. */
export async function eventsBetween(
  d: TestDaemon,
  since: string,
  filters: Record<string, string[]> = {},
): Promise<{ Action: string; Actor: { ID: string; Attributes: Record<string, string> } }[]> {
  const now = (Date.now() / 1000).toFixed(3);
  const q = `since=${since}&until=${now}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const { exec: run } = await import("../../helpers/daemon.ts");
  const r = await run("curl", ["-sf", "--unix-socket", d.socket, `http://x/events?${q}`]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
