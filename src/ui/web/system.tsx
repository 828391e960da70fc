// The system page: what `docker info` and `docker version` say, disk usage, and the daemon's events.
import { useEffect, useState } from "preact/hooks";
import { api, apiUrl, events, streamLines } from "./api.ts";
import { bytes } from "./format.ts";
import type {
  ContainerSummary,
  EventMessage,
  ImageSummary,
  SystemInfo,
  SystemVersion,
  VolumeListResponse,
} from "./types.ts";
import { Facts, Header, Status, useLive } from "./ui.tsx";

/** One row of the disk usage table, as `docker system df` prints it. */
export interface DfRow {
  type: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/**
 * Disk usage from the daemon's `GET /system/df`, or, when the daemon has none, from the lists (images'
 * sizes, containers' writable layers, volumes' usage where the daemon reports it).
 */
export async function diskUsage(): Promise<{ rows: DfRow[]; computed: boolean }> {
  type Df = {
    Images?: ImageSummary[];
    Containers?: ContainerSummary[];
    Volumes?: VolumeListResponse["Volumes"];
  };
  let df: Df;
  let computed = false;
  try {
    df = await api<Df>("GET", "/system/df");
  } catch {
    computed = true;
    const [Images, Containers, vols] = await Promise.all([
      api<ImageSummary[]>("GET", "/images/json"),
      api<ContainerSummary[]>("GET", "/containers/json", { query: { all: true, size: true } }),
      api<VolumeListResponse>("GET", "/volumes"),
    ]);
    df = { Images, Containers, Volumes: vols.Volumes };
  }
  const imgs = df.Images ?? [];
  const ctrs = df.Containers ?? [];
  const vols = df.Volumes ?? [];
  const usedImages = new Set(ctrs.map((c) => c.ImageID));
  const imgSize = imgs.reduce((a, i) => a + (i.Size ?? 0), 0);
  const imgActive = imgs.filter((i) => usedImages.has(i.Id) || i.Containers > 0);
  const ctrSize = ctrs.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const running = ctrs.filter((c) => c.State === "running");
  const volSize = vols.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volActive = vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0);
  return {
    computed,
    rows: [
      {
        type: "Images",
        total: imgs.length,
        active: imgActive.length,
        size: imgSize,
        reclaimable: imgSize - imgActive.reduce((a, i) => a + (i.Size ?? 0), 0),
      },
      {
        type: "Containers",
        total: ctrs.length,
        active: running.length,
        size: ctrSize,
        reclaimable: ctrs.filter((c) => c.State !== "running").reduce((a, c) => a + (c.SizeRw ?? 0), 0),
      },
      {
        type: "Local Volumes",
        total: vols.length,
        active: volActive.length,
        size: volSize,
        reclaimable: volSize - volActive.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0),
      },
    ],
  };
}

const KEEP = 300;

function EventLog() {
  const [list, setList] = useState<EventMessage[]>([]);
  useEffect(() => {
    const ctl = new AbortController();
    const now = Math.floor(Date.now() / 1000);
    // The last hour from the daemon's ring, then live ones from the app's stream.
    const past: EventMessage[] = [];
    streamLines<EventMessage>(apiUrl("/events", { since: now - 3600, until: now }), {
      signal: ctl.signal,
      onLine: (e) => past.push(e),
    })
      .then(() => setList((l) => [...l, ...past.reverse()].slice(0, KEEP)))
      .catch(() => {});
    const off = events.subscribe((e) => setList((l) => [e, ...l].slice(0, KEEP)));
    return () => {
      off();
      ctl.abort();
    };
  }, []);
  return (
    <section class="card" aria-label="Events">
      <h3>Events</h3>
      <div class="scroll events" role="log" aria-label="Daemon events, newest first">
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
            </tr>
          </thead>
          <tbody>
            {list.map((e, i) => (
              <tr key={`${e.timeNano}-${i}`}>
                <td class="nowrap">{new Date(e.time * 1000).toLocaleTimeString()}</td>
                <td>{e.Type}</td>
                <td>{e.Action}</td>
                <td class="wrap-any">{e.Actor?.Attributes?.name ?? e.Actor?.ID?.slice(0, 12)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The system page. */
export function SystemPage() {
  const info = useLive(() => api<SystemInfo>("GET", "/info"), {
    deps: [],
    when: (e) => e.Type === "container" || e.Type === "image",
  });
  const ver = useLive(() => api<SystemVersion>("GET", "/version"), { deps: [] });
  const df = useLive(diskUsage, {
    deps: [],
    when: (e) => ["image", "volume"].includes(e.Type) || ["create", "destroy", "die"].includes(e.Action),
  });
  const i = info.data;
  const v = ver.data;
  return (
    <>
      <Header title="System" />
      <Status error={info.error} loading={!i} />
      <div class="cards">
        {i && (
          <Facts
            title="Daemon"
            rows={[
              ["Name", i.Name],
              ["Server version", i.ServerVersion],
              ["API version", v?.ApiVersion],
              ["Operating system", i.OperatingSystem],
              ["Kernel", i.KernelVersion],
              ["Architecture", i.Architecture],
              ["CPUs", String(i.NCPU ?? "")],
              ["Memory", bytes(i.MemTotal)],
              ["Storage driver", i.Driver],
              ["Cgroup", `${i.CgroupDriver ?? ""} v${i.CgroupVersion ?? ""}`],
              ["Root dir", i.DockerRootDir],
            ]}
          />
        )}
        {i && (
          <Facts
            title="Objects"
            rows={[
              ["Containers", String(i.Containers ?? 0)],
              ["Running", String(i.ContainersRunning ?? 0)],
              ["Paused", String(i.ContainersPaused ?? 0)],
              ["Stopped", String(i.ContainersStopped ?? 0)],
              ["Images", String(i.Images ?? 0)],
            ]}
          />
        )}
        <section class="card" aria-label="Disk usage">
          <h3>Disk usage</h3>
          <Status error={df.error} loading={!df.data} />
          {df.data && (
            <div class="scroll">
              <table class="list">
                <thead>
                  <tr>
                    <th scope="col">Type</th>
                    <th scope="col" class="num">
                      Total
                    </th>
                    <th scope="col" class="num">
                      Active
                    </th>
                    <th scope="col" class="num">
                      Size
                    </th>
                    <th scope="col" class="num">
                      Reclaimable
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {df.data.rows.map((r) => (
                    <tr key={r.type}>
                      <th scope="row">{r.type}</th>
                      <td class="num">{r.total}</td>
                      <td class="num">{r.active}</td>
                      <td class="num">{bytes(r.size)}</td>
                      <td class="num">{bytes(r.reclaimable)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {df.data?.computed && (
            <p class="muted">The daemon has no /system/df; computed from the object lists.</p>
          )}
        </section>
      </div>
      <EventLog />
    </>
  );
}
