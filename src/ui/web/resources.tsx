// Volumes and networks: list, inspect, create, remove, prune, and which containers use each.
import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { api } from "./api.ts";
import { ctrName, shortId } from "./format.ts";
import type { ContainerSummary, Network, Volume, VolumeListResponse } from "./types.ts";
import { attempt, confirmAction, Field, Header, Json, ListTable, Status, useLive } from "./ui.tsx";

function useContainers() {
  return useLive(() => api<ContainerSummary[]>("GET", "/containers/json", { query: { all: true } }), {
    deps: [],
    when: (e) => e.Type === "container" && ["create", "destroy", "start", "die"].includes(e.Action),
  });
}

/** A name field and a create button. */
function CreateForm(props: {
  what: string;
  onCreate: (name: string, extra: string) => Promise<unknown>;
  extraLabel?: string;
}) {
  const [name, setName] = useState("");
  const [extra, setExtra] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    if (
      await attempt(
        `Create ${props.what}`,
        () => props.onCreate(name.trim(), extra.trim()),
        `Created ${props.what} ${name}`,
      )
    ) {
      setName("");
      setExtra("");
    }
  };
  return (
    <form class="card row wrap" aria-label={`Create a ${props.what}`} onSubmit={(e) => void submit(e)}>
      <Field
        label={`New ${props.what} name`}
        value={name}
        onInput={setName}
        required={props.what === "network"}
      />
      {props.extraLabel && <Field label={props.extraLabel} value={extra} onInput={setExtra} />}
      <button type="submit" class="primary">
        Create
      </button>
    </form>
  );
}

function Users(props: { names: string[] }) {
  if (!props.names.length) return <span class="muted">unused</span>;
  return <span>{props.names.join(", ")}</span>;
}

/** A list page: its title with a prune button, the create form, the load status and a table of `columns`. */
function ListPage(props: {
  title: string;
  prune: { question: string; path: string; done: string };
  create: ComponentChildren;
  error?: string;
  loading: boolean;
  columns: string[];
  children: ComponentChildren;
}) {
  const prune = async () => {
    if (!(await confirmAction(props.prune.question, "Prune"))) return;
    await attempt("Prune", () => api("POST", props.prune.path), props.prune.done);
  };
  return (
    <>
      <Header title={props.title}>
        <button type="button" onClick={() => void prune()}>
          Prune unused
        </button>
      </Header>
      {props.create}
      <Status error={props.error} loading={props.loading} />
      <div class="scroll">
        <ListTable columns={props.columns} cards>
          {props.children}
        </ListTable>
      </div>
    </>
  );
}

/** A row's remove button. */
function RemoveButton(props: { what: string; onClick: () => void }) {
  return (
    <button type="button" class="small danger" aria-label={`Remove ${props.what}`} onClick={props.onClick}>
      remove
    </button>
  );
}

/** The volumes page; `focus` is a volume whose inspect data is shown. */
export function VolumesPage(props: { focus?: string }) {
  const vols = useLive(() => api<VolumeListResponse>("GET", "/volumes"), {
    deps: [],
    when: (e) => e.Type === "volume",
  });
  const ctrs = useContainers();
  const users = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of ctrs.data ?? [])
      for (const mt of c.Mounts ?? [])
        if (mt.Type === "volume" && mt.Name) m.set(mt.Name, [...(m.get(mt.Name) ?? []), ctrName(c.Names)]);
    return m;
  }, [ctrs.data]);
  const list = [...(vols.data?.Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  const focus = props.focus ? list.find((v) => v.Name === props.focus) : undefined;
  const remove = async (v: Volume) => {
    if (!(await confirmAction(`Remove volume ${v.Name}? Its data is deleted.`, "Remove"))) return;
    await attempt(
      "Remove",
      () => api("DELETE", `/volumes/${encodeURIComponent(v.Name)}`),
      `Removed ${v.Name}`,
    );
  };
  return (
    <>
      <ListPage
        title="Volumes"
        prune={{
          question: "Remove all unused anonymous volumes?",
          path: "/volumes/prune",
          done: "Pruned volumes",
        }}
        create={
          <CreateForm
            what="volume"
            extraLabel="Driver"
            onCreate={(Name, Driver) =>
              api("POST", "/volumes/create", {
                body: { Name: Name || undefined, Driver: Driver || undefined },
              })
            }
          />
        }
        error={vols.error}
        loading={!vols.data}
        columns={["Name", "Driver", "Mountpoint", "Used by", "Actions"]}
      >
        {list.map((v) => (
          <tr key={v.Name} data-volume={v.Name}>
            <th scope="row">
              <a href={`#/volumes/${encodeURIComponent(v.Name)}`}>
                {v.Name.length > 40 ? shortId(v.Name) : v.Name}
              </a>
            </th>
            <td data-label="Driver">{v.Driver}</td>
            <td class="mono wrap-any" data-label="Mountpoint">
              {v.Mountpoint}
            </td>
            <td data-label="Used by">
              <Users names={users.get(v.Name) ?? []} />
            </td>
            <td data-label="Actions">
              <RemoveButton what={`volume ${v.Name}`} onClick={() => void remove(v)} />
            </td>
          </tr>
        ))}
      </ListPage>
      {focus && (
        <section class="card">
          <h3>Volume {focus.Name}</h3>
          <Json value={focus} label={`Inspect data of volume ${focus.Name}`} />
        </section>
      )}
    </>
  );
}

function NetworkDetail(props: { id: string }) {
  const n = useLive(() => api<Network>("GET", `/networks/${encodeURIComponent(props.id)}`), {
    deps: [props.id],
    when: (e) => e.Type === "network",
  });
  return (
    <section class="card">
      <h3>Network {n.data?.Name ?? props.id}</h3>
      <Status error={n.error} loading={!n.data} />
      {n.data && <Json value={n.data} label={`Inspect data of network ${n.data.Name}`} />}
    </section>
  );
}

const BUILTIN = new Set(["bridge", "host", "none"]);

/** The networks page; `focus` is a network whose inspect data is shown. */
export function NetworksPage(props: { focus?: string }) {
  const nets = useLive(() => api<Network[]>("GET", "/networks"), {
    deps: [],
    when: (e) => e.Type === "network",
  });
  const ctrs = useContainers();
  const users = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of ctrs.data ?? [])
      for (const [name, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
        const key = ep?.NetworkID || name;
        m.set(key, [...(m.get(key) ?? []), ctrName(c.Names)]);
        if (key !== name) m.set(name, m.get(key) ?? []);
      }
    return m;
  }, [ctrs.data]);
  const list = [...(nets.data ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
  const remove = async (n: Network) => {
    if (!(await confirmAction(`Remove network ${n.Name}?`, "Remove"))) return;
    await attempt("Remove", () => api("DELETE", `/networks/${n.Id}`), `Removed ${n.Name}`);
  };
  return (
    <>
      <ListPage
        title="Networks"
        prune={{ question: "Remove all unused networks?", path: "/networks/prune", done: "Pruned networks" }}
        create={
          <CreateForm
            what="network"
            extraLabel="Subnet (optional)"
            onCreate={(Name, subnet) =>
              api("POST", "/networks/create", {
                body: { Name, Driver: "bridge", IPAM: subnet ? { Config: [{ Subnet: subnet }] } : undefined },
              })
            }
          />
        }
        error={nets.error}
        loading={!nets.data}
        columns={["Name", "ID", "Driver", "Subnet", "Used by", "Actions"]}
      >
        {list.map((n) => (
          <tr key={n.Id} data-network={n.Name}>
            <th scope="row">
              <a href={`#/networks/${n.Id}`}>{n.Name}</a>
            </th>
            <td data-label="ID">
              <code>{shortId(n.Id)}</code>
            </td>
            <td data-label="Driver">{n.Driver}</td>
            <td data-label="Subnet">{(n.IPAM?.Config ?? []).map((c) => c.Subnet).join(", ")}</td>
            <td data-label="Used by">
              <Users names={users.get(n.Id) ?? users.get(n.Name) ?? []} />
            </td>
            <td data-label="Actions">
              {!BUILTIN.has(n.Name) && (
                <RemoveButton what={`network ${n.Name}`} onClick={() => void remove(n)} />
              )}
            </td>
          </tr>
        ))}
      </ListPage>
      {props.focus && <NetworkDetail id={props.focus} />}
    </>
  );
}
