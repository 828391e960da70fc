// Live usage of many containers over one response: a browser holds only six connections per host, so a
// stats stream per container row would starve every other request of the page.
import type { ServerResponse } from "node:http";
import type { StatsFrame } from "../apitypes/index.ts";
import { type EngineClient, jsonLines } from "../client/index.ts";
import type { Sample } from "./sample.ts";

export type { Sample } from "./sample.ts";

/** Reduces a stats frame to the numbers the dashboard shows, computed as docker's CLI does. */
export function sampleOf(id: string, f: StatsFrame): Sample {
  const cpuDelta = (f.cpu_stats?.cpu_usage?.total_usage ?? 0) - (f.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (f.cpu_stats?.system_cpu_usage ?? 0) - (f.precpu_stats?.system_cpu_usage ?? 0);
  const online = f.cpu_stats?.online_cpus || f.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  const usage = f.memory_stats?.usage ?? 0;
  const st = f.memory_stats?.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of f.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? "").toLowerCase();
    if (op.startsWith("r")) blkRead += e.value;
    else if (op.startsWith("w")) blkWrite += e.value;
  }
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(f.networks ?? {})) {
    netRx += n.rx_bytes;
    netTx += n.tx_bytes;
  }
  const t = f.read ? Date.parse(f.read) : Date.now();
  return {
    id,
    t: Number.isFinite(t) && t > 0 ? t : Date.now(),
    cpu: sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0,
    mem: inactive < usage ? usage - inactive : usage,
    memLimit: f.memory_stats?.limit ?? 0,
    netRx,
    netTx,
    blkRead,
    blkWrite,
    pids: f.pids_stats?.current ?? 0,
  };
}

const MAX_IDS = 200;

/** Streams `Sample` lines for each container in `ids` until the browser goes away. */
export function streamStats(client: EngineClient, ids: string[], res: ServerResponse): void {
  res.writeHead(200, {
    "Content-Type": "application/x-ndjson",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  for (const id of [...new Set(ids)].slice(0, MAX_IDS)) {
    void (async () => {
      try {
        const body = await client.containerStats(id, { stream: true, signal: abort.signal });
        abort.signal.addEventListener("abort", () => body.destroy());
        for await (const f of jsonLines<StatsFrame>(body)) {
          if (abort.signal.aborted) break;
          res.write(`${JSON.stringify(sampleOf(id, f))}\n`);
        }
      } catch {
        // A container that stopped or went away just stops reporting.
      }
    })();
  }
}
