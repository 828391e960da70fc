/**
 * `run --rm` does not stall the daemon's event loop: with an /events stream held open on one connection
 * and a ping loop on another, containers are started and removed through the API on others, and the
 * daemon's own loop delay (perf_hooks, read from its debug endpoint) stays within a few milliseconds.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { getPriority, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { api, dockerOk, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

interface LoopDelay {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

let d: TestDaemon;

before(async () => {
  process.env.WHARF_DEBUG_LOOP_DELAY = "1";
  d = await startDaemon({ name: "loop" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** A request on its own connection; resolves with the status once the response has ended. */
function get(path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** docker run --rm's API calls: create with AutoRemove, wait for removal, start, and the wait's end. */
async function runRm(): Promise<void> {
  const { Id } = await api<{ Id: string }>(d, "POST", "/containers/create", {
    Image: "busybox",
    Cmd: ["true"],
    HostConfig: { AutoRemove: true },
  });
  const removed = api(d, "POST", `/containers/${Id}/wait?condition=removed`);
  await api(d, "POST", `/containers/${Id}/start`);
  await removed;
}

describe("event loop", () => {
  test("stays free while containers start and go, with a stream open on another connection", async () => {
    // Warm up: the first run pays for one-time work (bridge, iptables chains, image config).
    await runRm();
    const events = new Promise<{ destroyed: number; stop(): void }>((resolve, reject) => {
      const req = request({ socketPath: d.socket, path: "/events", agent: new Agent() }, (res) => {
        const seen = { destroyed: 0, stop: () => req.destroy() };
        res.setEncoding("utf8");
        res.on("data", (s: string) => {
          seen.destroyed += s.split('"Action":"destroy"').length - 1;
        });
        resolve(seen);
      });
      req.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(e)));
      req.end();
    });
    const stream = await events;
    const pingAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    let pinging = true;
    let pings = 0;
    let worstPing = 0;
    const pinger = (async () => {
      while (pinging) {
        const t = performance.now();
        assert.equal(await get("/_ping", pingAgent), 200);
        worstPing = Math.max(worstPing, performance.now() - t);
        pings++;
      }
    })();
    try {
      await api(d, "GET", "/_wharf/loop-delay?reset=1");
      // The same measure in this process, which does next to nothing: what the machine's load alone costs.
      const own = monitorEventLoopDelay({ resolution: 1 });
      own.enable();
      const rounds = 3;
      const parallel = 4;
      const t0 = performance.now();
      for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: parallel }, () => runRm()));
      const startsMs = performance.now() - t0;
      const delay = await api<LoopDelay>(d, "GET", "/_wharf/loop-delay?reset=1");
      own.disable();
      const ownMax = own.max / 1e6;
      const ownP99 = own.percentile(99) / 1e6;
      // The same probe for as long again with the stream and the pings but no container: what the daemon
      // shows without starts, so the figure above can be read as what starting containers adds.
      await new Promise((r) => setTimeout(r, startsMs));
      const idle = await api<LoopDelay>(d, "GET", "/_wharf/loop-delay");
      pinging = false;
      await pinger;
      const line = `loop delay over ${rounds * parallel} run --rm (${startsMs.toFixed(0)} ms): p50 ${delay.p50} ms, p99 ${delay.p99} ms, max ${delay.max} ms, mean ${delay.mean} ms (${delay.count} samples); as long again with no container: p99 ${idle.p99} ms, max ${idle.max} ms; ${pings} pings, slowest ${worstPing.toFixed(1)} ms; the test process's own loop: p99 ${ownP99.toFixed(3)} ms, max ${ownMax.toFixed(3)} ms; load ${loadavg()[0].toFixed(2)}`;
      console.log(line);
      assert.ok(stream.destroyed >= rounds * parallel, `${stream.destroyed} destroy events`);
      assert.ok(pings > rounds, "the ping connection was served throughout");
      // A 1 ms timer on a free loop is late by about 1 ms; a fork+exec or a namespace created on the loop
      // shows as 10-200 ms per container, and a fork of the daemon in a worker thread (its page tables
      // copied under the mmap_lock) as a p99 of 15-35 ms at a load of 12, 4.5-5 ms since programs are
      // started with posix_spawn. When the machine itself keeps runnable processes waiting (this
      // process's idle loop is late too), the daemon is held to a multiple of what that alone costs; the
      // max follows the machine (the idle baseline above reaches 60 ms at a load of 12).
      const starved = ownP99 > 5;
      const p99Bound = starved ? 2 * ownP99 + 10 : 10;
      const maxBound = starved ? 3 * ownMax + 50 : 60;
      assert.ok(delay.p99 < p99Bound, `${line} (p99 bound ${p99Bound.toFixed(1)} ms)`);
      assert.ok(delay.max < maxBound, `${line} (max bound ${maxBound.toFixed(1)} ms)`);
    } finally {
      pinging = false;
      stream.stop();
      pingAgent.destroy();
    }
  });

  test("only the daemon's event-loop thread runs at a raised priority: containers keep the daemon's nice", async () => {
    // The daemon inherited this process's nice value; /proc/PID/stat's 19th field is a thread's nice
    // (the main thread's for PID, the command's own inside the container).
    const nice = (stat: string) => Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    const started = getPriority(0);
    const main = nice(await readFile(`/proc/${d.proc.pid}/stat`, "utf8"));
    if (process.getuid?.() === 0) assert.equal(main, Math.max(-20, started - 10), "the daemon's main thread");
    const inside = nice(await dockerOk(d, ["run", "--rm", "busybox", "cat", "/proc/self/stat"]));
    assert.equal(inside, started, "the container's process");
  });
});
