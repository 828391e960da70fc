// The containers page: every container, grouped by compose project, filtered, with live usage and the
// lifecycle actions; and the form that creates and runs a new one.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, stats } from "./api.ts";
import { bytes, ctrName, pct } from "./format.ts";
import { RunForm } from "./runform.tsx";
import type { ContainerSummary, Sample } from "./types.ts";
import { attempt, confirmAction, Header, ListTable, Status, useLive } from "./ui.tsx";

const PROJECT = "com.docker.compose.project";

/** Live CPU and memory of one container; re-renders alone, so the list stays cheap at 500 rows. */
function Usage(props: { id: string; running: boolean }) {
  const [s, setS] = useState<Sample | undefined>(stats.latest.get(props.id));
  useEffect(() => (props.running ? stats.subscribe(props.id, setS) : undefined), [props.id, props.running]);
  if (!props.running)
    return (
      <td colSpan={2} class="muted num" data-label="Usage">
        —
      </td>
    );
  return (
    <>
      <td class="num" data-label="CPU">
        {s ? pct(s.cpu) : "…"}
      </td>
      <td class="num" data-label="Memory">
        {s ? bytes(s.mem) : "…"}
      </td>
    </>
  );
}

function Ports(props: { c: ContainerSummary }) {
  const seen = new Set<string>();
  const out = [];
  for (const p of props.c.Ports ?? []) {
    if (!p.PublicPort) continue;
    const key = `${p.PublicPort}/${p.Type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const host = !p.IP || p.IP === "0.0.0.0" || p.IP === "::" ? location.hostname : p.IP;
    out.push(
      p.Type === "tcp" ? (
        <a
          key={key}
          href={`http://${host.includes(":") ? `[${host}]` : host}:${p.PublicPort}/`}
          target="_blank"
          rel="noreferrer"
        >
          {p.PublicPort}→{p.PrivatePort}
        </a>
      ) : (
        <span key={key}>
          {p.PublicPort}→{p.PrivatePort}/{p.Type}
        </span>
      ),
    );
  }
  return <span class="ports">{out.length ? out : <span class="muted">—</span>}</span>;
}

/** Runs one lifecycle action on a container; destructive ones ask first. */
export async function act(c: { Id: string; name: string }, action: string): Promise<boolean> {
  if (action === "remove") {
    if (!(await confirmAction(`Remove container ${c.name}? Its writable layer is deleted.`, "Remove")))
      return false;
    return attempt(
      `Remove ${c.name}`,
      () => api("DELETE", `/containers/${c.Id}`, { query: { force: true } }),
      `Removed ${c.name}`,
    );
  }
  if (action === "kill" && !(await confirmAction(`Kill container ${c.name} with SIGKILL?`, "Kill")))
    return false;
  return attempt(`${action} ${c.name}`, () => api("POST", `/containers/${c.Id}/${action}`));
}

/** The actions that make sense in a state. */
export function actionsFor(state: string): string[] {
  if (state === "running") return ["stop", "restart", "pause", "kill"];
  if (state === "paused") return ["unpause", "stop", "kill"];
  if (state === "restarting") return ["stop", "kill"];
  return ["start"];
}

/** Buttons for a container's lifecycle. */
export function Actions(props: { c: { Id: string; name: string; State: string } }) {
  const [busy, setBusy] = useState(false);
  const run = async (a: string) => {
    setBusy(true);
    await act(props.c, a);
    setBusy(false);
  };
  return (
    <fieldset class="actions">
      <legend class="sr-only">{`Actions for ${props.c.name}`}</legend>
      {[...actionsFor(props.c.State), "remove"].map((a) => (
        <button
          type="button"
          key={a}
          class={a === "remove" || a === "kill" ? "small danger" : "small"}
          disabled={busy}
          aria-label={`${a} ${props.c.name}`}
          onClick={() => void run(a)}
        >
          {a}
        </button>
      ))}
    </fieldset>
  );
}

function Row(props: { c: ContainerSummary }) {
  const c = props.c;
  const name = ctrName(c.Names);
  const running = c.State === "running";
  return (
    <tr data-name={name} data-state={c.State}>
      <th scope="row">
        <a href={`#/containers/${c.Id}`}>{name}</a>
        {c.Labels?.["com.docker.compose.service"] && (
          <small class="muted"> {c.Labels["com.docker.compose.service"]}</small>
        )}
      </th>
      <td class="ellipsis" title={c.Image} data-label="Image">
        {c.Image}
      </td>
      <td data-label="State">
        <span class={`state ${c.State}`}>{c.State}</span> <small class="muted">{c.Status}</small>
      </td>
      <td data-label="Ports">
        <Ports c={c} />
      </td>
      <Usage id={c.Id} running={running} />
      <td data-label="Actions">
        <Actions c={{ Id: c.Id, name, State: c.State }} />
      </td>
    </tr>
  );
}

function Group(props: { title: string; list: ContainerSummary[] }) {
  const running = props.list.filter((c) => c.State === "running").length;
  return (
    <section class="group" aria-label={props.title}>
      <h3>
        {props.title} <small class="muted">{`${running}/${props.list.length} running`}</small>
      </h3>
      <div class="scroll">
        <ListTable
          columns={[
            "Name",
            "Image",
            "State",
            "Ports",
            { label: "CPU", num: true },
            { label: "Memory", num: true },
            "Actions",
          ]}
          cards
        >
          {props.list.map((c) => (
            <Row key={c.Id} c={c} />
          ))}
        </ListTable>
      </div>
    </section>
  );
}

const STATES = ["running", "paused", "restarting", "created", "exited", "dead"];

/** The containers page. */
export function ContainersPage() {
  const list = useLive(() => api<ContainerSummary[]>("GET", "/containers/json", { query: { all: true } }), {
    deps: [],
    when: (e) => e.Type === "container",
  });
  const [name, setName] = useState("");
  const [state, setState] = useState("");
  const [project, setProject] = useState("");
  const [showForm, setShowForm] = useState(false);
  const all = list.data ?? [];
  const projects = useMemo(
    () => [...new Set(all.map((c) => c.Labels?.[PROJECT]).filter((p): p is string => !!p))].sort(),
    [all],
  );
  const groups = useMemo(() => {
    const q = name.trim().toLowerCase();
    const shown = all.filter(
      (c) =>
        (!q || ctrName(c.Names).toLowerCase().includes(q) || c.Image.toLowerCase().includes(q)) &&
        (!state || c.State === state) &&
        (!project || c.Labels?.[PROJECT] === project),
    );
    shown.sort((a, b) => ctrName(a.Names).localeCompare(ctrName(b.Names)));
    const by = new Map<string, ContainerSummary[]>();
    for (const c of shown) {
      const p = c.Labels?.[PROJECT] ?? "";
      by.set(p, [...(by.get(p) ?? []), c]);
    }
    return [...by.entries()].sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)));
  }, [all, name, state, project]);
  return (
    <>
      <Header title="Containers">
        <button type="button" class="primary" aria-expanded={showForm} onClick={() => setShowForm(!showForm)}>
          {showForm ? "Close form" : "Run a container"}
        </button>
      </Header>
      {showForm && <RunForm onDone={() => setShowForm(false)} />}
      <search class="filters row wrap">
        <div class="field">
          <label for="filter-name">Filter by name or image</label>
          <input
            id="filter-name"
            type="search"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="filter-state">State</label>
          <select
            id="filter-state"
            value={state}
            onChange={(e) => setState((e.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-project">Compose project</label>
          <select
            id="filter-project"
            value={project}
            onChange={(e) => setProject((e.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {projects.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </div>
      </search>
      <Status error={list.error} loading={!list.data} />
      {list.data && groups.length === 0 && <p class="muted">No containers match.</p>}
      {groups.map(([p, cs]) => (
        <Group key={p} title={p ? `Project ${p}` : "Standalone containers"} list={cs} />
      ))}
    </>
  );
}
