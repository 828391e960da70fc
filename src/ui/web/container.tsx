// One container: its inspect data as readable sections and raw JSON, logs, a terminal, live charts, its
// processes and its changed files.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import { Actions } from "./containers.tsx";
import { bytes, shortId } from "./format.ts";
import { Logs } from "./logs.tsx";
import type { ContainerInspectResponse, ContainerTopResponse, FilesystemChange } from "./types.ts";
import { Facts, Header, Json, ListTable, Status, Tabs, useLive } from "./ui.tsx";

type PanelProps = { id: string; running: boolean };

/**
 * Loads the terminal (xterm) and the charts (uPlot) only when their tab opens: they are most of the
 * bundle, and the first page load should not wait for them.
 */
function lazy(load: () => Promise<ComponentType<PanelProps>>) {
  let cached: ComponentType<PanelProps> | undefined;
  return function Lazy(props: PanelProps) {
    const [C, setC] = useState<ComponentType<PanelProps> | undefined>(() => cached);
    useEffect(() => {
      if (!cached)
        load().then((c) => {
          cached = c;
          setC(() => c);
        });
    }, []);
    return C ? <C {...props} /> : <p class="muted">Loading…</p>;
  };
}

const Terminal = lazy(async () => (await import("./terminal.tsx")).Terminal);
const Charts = lazy(async () => (await import("./charts.tsx")).Charts);

const TABS: [string, string][] = [
  ["overview", "Overview"],
  ["logs", "Logs"],
  ["terminal", "Terminal"],
  ["stats", "Stats"],
  ["top", "Processes"],
  ["diff", "Changes"],
  ["json", "Inspect JSON"],
];

function Overview(props: { c: ContainerInspectResponse }) {
  const c = props.c;
  const s = c.State;
  const hc = c.HostConfig ?? {};
  const ports = Object.entries(c.NetworkSettings?.Ports ?? {}).map(
    ([k, v]) => `${(v ?? []).map((b) => `${b.HostIp || "0.0.0.0"}:${b.HostPort}`).join(", ") || "—"} → ${k}`,
  );
  return (
    <div class="cards">
      <Facts
        title="State"
        rows={[
          ["Status", s?.Status],
          ["Running", String(!!s?.Running)],
          ["PID", s?.Pid ? String(s.Pid) : ""],
          ["Exit code", s?.Running ? "" : String(s?.ExitCode ?? "")],
          [
            "Started",
            s?.StartedAt && !s.StartedAt.startsWith("0001") ? new Date(s.StartedAt).toLocaleString() : "",
          ],
          [
            "Finished",
            s?.FinishedAt && !s.FinishedAt.startsWith("0001") ? new Date(s.FinishedAt).toLocaleString() : "",
          ],
          ["Health", s?.Health?.Status],
          ["Error", s?.Error],
        ]}
      />
      <Facts
        title="Configuration"
        rows={[
          ["ID", <code key="id">{shortId(c.Id)}</code>],
          ["Image", c.Config?.Image],
          ["Command", [...(c.Config?.Entrypoint ?? []), ...(c.Config?.Cmd ?? [])].join(" ")],
          ["Working dir", c.Config?.WorkingDir],
          ["User", c.Config?.User],
          ["TTY", c.Config?.Tty ? "yes" : "no"],
          ["Restart policy", hc.RestartPolicy?.Name],
          ["Created", c.Created ? new Date(c.Created).toLocaleString() : ""],
        ]}
      />
      <Facts
        title="Environment"
        rows={(c.Config?.Env ?? []).map((e, i) => [String(i + 1), <code key={e}>{e}</code>])}
      />
      <Facts title="Ports" rows={ports.map((p, i) => [String(i + 1), p])} />
      <Facts
        title="Mounts"
        rows={(c.Mounts ?? []).map((m) => [
          m.Destination ?? "",
          `${m.Type}: ${m.Name || m.Source}${m.RW === false ? " (read-only)" : ""}`,
        ])}
      />
      <Facts
        title="Networks"
        rows={Object.entries(c.NetworkSettings?.Networks ?? {}).map(([n, e]) => [
          n,
          [e?.IPAddress, e?.MacAddress].filter(Boolean).join(" · ") || "—",
        ])}
      />
      <Facts title="Labels" rows={Object.entries(c.Config?.Labels ?? {}).map(([k, v]) => [k, v])} />
      <Facts
        title="Resources"
        rows={[
          ["Memory limit", hc.Memory ? bytes(hc.Memory) : "unlimited"],
          ["CPU shares", hc.CpuShares ? String(hc.CpuShares) : ""],
          ["CPUs", hc.NanoCpus ? String(hc.NanoCpus / 1e9) : ""],
          ["PIDs limit", hc.PidsLimit ? String(hc.PidsLimit) : ""],
        ]}
      />
    </div>
  );
}

function Top(props: { id: string; running: boolean }) {
  const top = useLive(
    () =>
      props.running
        ? api<ContainerTopResponse>("GET", `/containers/${props.id}/top`)
        : Promise.resolve(undefined),
    { deps: [props.id, props.running], when: (e) => e.Type === "container" && e.Actor?.ID === props.id },
  );
  if (!props.running) return <p class="muted">The container is not running.</p>;
  const t = top.data;
  return (
    <>
      <Status error={top.error} loading={!t} />
      {t && (
        <div class="scroll">
          <ListTable columns={t.Titles ?? []}>
            {(t.Processes ?? []).map((p, i) => (
              <tr key={i}>
                {p.map((v, j) => (
                  <td key={j}>{v}</td>
                ))}
              </tr>
            ))}
          </ListTable>
        </div>
      )}
      <button type="button" onClick={top.reload}>
        Refresh
      </button>
    </>
  );
}

const KINDS = ["Modified", "Added", "Deleted"];

function Diff(props: { id: string }) {
  const d = useLive(() => api<FilesystemChange[] | null>("GET", `/containers/${props.id}/changes`), {
    deps: [props.id],
  });
  return (
    <>
      <Status error={d.error} loading={d.data === undefined} />
      {d.data !== undefined && (d.data ?? []).length === 0 && <p class="muted">No changed files.</p>}
      <ul class="diff">
        {(d.data ?? []).map((c) => (
          <li key={c.Path} class={`k${c.Kind}`}>
            <abbr title={KINDS[c.Kind]}>{"CAD"[c.Kind]}</abbr> <code>{c.Path}</code>
          </li>
        ))}
      </ul>
      <button type="button" onClick={d.reload}>
        Refresh
      </button>
    </>
  );
}

/** The one-container page. */
export function ContainerPage(props: { id: string; tab: string }) {
  const ins = useLive(
    () => api<ContainerInspectResponse>("GET", `/containers/${encodeURIComponent(props.id)}/json`),
    {
      deps: [props.id],
      when: (e) => e.Type === "container" && (e.Actor?.ID === props.id || e.Actor?.ID?.startsWith(props.id)),
    },
  );
  const c = ins.data;
  const name = (c?.Name ?? props.id).replace(/^\//, "");
  const running = !!c?.State?.Running;
  const pick = (t: string) => {
    location.hash = `#/containers/${props.id}/${t}`;
  };
  return (
    <>
      <p class="crumbs">
        <a href="#/containers">Containers</a> /
      </p>
      <Header title={name}>
        {c && <Actions c={{ Id: c.Id ?? props.id, name, State: c.State?.Status ?? "" }} />}
      </Header>
      <Status error={ins.error} loading={!c} />
      {c && (
        <>
          <Tabs tabs={TABS} current={props.tab} onPick={pick} />
          <div role="tabpanel" aria-labelledby={`tab-${props.tab}`} class="panel">
            {props.tab === "overview" && <Overview c={c} />}
            {props.tab === "logs" && <Logs id={c.Id ?? props.id} name={name} tty={!!c.Config?.Tty} />}
            {props.tab === "terminal" && <Terminal id={c.Id ?? props.id} running={running} />}
            {props.tab === "stats" && <Charts id={c.Id ?? props.id} running={running} />}
            {props.tab === "top" && <Top id={c.Id ?? props.id} running={running} />}
            {props.tab === "diff" && <Diff id={c.Id ?? props.id} />}
            {props.tab === "json" && <Json value={c} label="docker inspect output" />}
          </div>
        </>
      )}
    </>
  );
}
