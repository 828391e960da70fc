// The system page: what `docker info` and `docker version` say, disk usage, and the daemon's events.
import { useEffect, useState } from "preact/hooks";
import { api, apiUrl, events, streamLines } from "./api.ts";
import { bytes } from "./format.ts";
import type {
  ContainerSummary,
  DiskUsage,
  EventMessage,
  SystemInfo,
  SystemVersion,
  Volume,
} from "./types.ts";
import { Facts, Header, ListTable, Status, useLive } from "./ui.tsx";

/** One row of the disk usage table, as `docker system df` prints it. */
export interface DfRow {
  type: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/**
 * Disk usage from the daemon's `GET /system/df`, summed as `docker system df` sums it: images by the bytes of
 * every layer once (reclaimable: what no container's image needs for itself), containers by their writable
 * layers, volumes by their contents, build cache by its records not shared with images.
 */
export async function diskUsage(): Promise<DfRow[]> {
  const df = await api<DiskUsage>("GET", "/system/df");
  const imgs = df.Images ?? [];
  const ctrs = df.Containers ?? [];
  const vols = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];
  const layers = df.LayersSize ?? 0;
  const usedByImages = imgs
    .filter((i) => i.Containers > 0 && i.Size >= 0 && i.SharedSize >= 0)
    .reduce((a, i) => a + i.Size - i.SharedSize, 0);
  const active = (c: ContainerSummary) => c.State === "running" || c.State === "paused";
  const sum = <T,>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + Math.max(0, f(x)), 0);
  const volSize = (v: Volume) => v.UsageData?.Size ?? 0;
  const unshared = cache.filter((c) => !c.Shared);
  return [
    {
      type: "Images",
      total: imgs.length,
      active: imgs.filter((i) => i.Containers > 0).length,
      size: layers,
      reclaimable: Math.max(0, layers - usedByImages),
    },
    {
      type: "Containers",
      total: ctrs.length,
      active: ctrs.filter(active).length,
      size: sum(ctrs, (c) => c.SizeRw ?? 0),
      reclaimable: sum(
        ctrs.filter((c) => !active(c)),
        (c) => c.SizeRw ?? 0,
      ),
    },
    {
      type: "Local Volumes",
      total: vols.length,
      active: vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
      size: sum(vols, volSize),
      reclaimable: sum(
        vols.filter((v) => (v.UsageData?.RefCount ?? 0) === 0),
        volSize,
      ),
    },
    {
      type: "Build Cache",
      total: cache.length,
      active: cache.filter((c) => c.InUse).length,
      size: sum(unshared, (c) => c.Size),
      reclaimable: sum(
        unshared.filter((c) => !c.InUse),
        (c) => c.Size,
      ),
    },
  ];
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
        <ListTable columns={["Time", "Type", "Action", "Object"]}>
          {list.map((e, i) => (
            <tr key={`${e.timeNano}-${i}`}>
              <td class="nowrap">{new Date(e.time * 1000).toLocaleTimeString()}</td>
              <td>{e.Type}</td>
              <td>{e.Action}</td>
              <td class="wrap-any">{e.Actor?.Attributes?.name ?? e.Actor?.ID?.slice(0, 12)}</td>
            </tr>
          ))}
        </ListTable>
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
    when: (e) =>
      ["image", "volume", "builder"].includes(e.Type) ||
      ["create", "destroy", "die", "start"].includes(e.Action),
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
              <ListTable
                columns={[
                  "Type",
                  { label: "Total", num: true },
                  { label: "Active", num: true },
                  { label: "Size", num: true },
                  { label: "Reclaimable", num: true },
                ]}
              >
                {df.data.map((r) => (
                  <tr key={r.type}>
                    <th scope="row">{r.type}</th>
                    <td class="num">{r.total}</td>
                    <td class="num">{r.active}</td>
                    <td class="num">{bytes(r.size)}</td>
                    <td class="num">{bytes(r.reclaimable)}</td>
                  </tr>
                ))}
              </ListTable>
            </div>
          )}
        </section>
      </div>
      <EventLog />
    </>
  );
}
