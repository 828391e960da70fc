// The images page: list with size, tags, age and the containers using each; pull with per-layer progress;
// tag, remove, prune; an image's history.
import { useMemo, useState } from "preact/hooks";
import { api, apiUrl, streamLines } from "./api.ts";
import { ago, bytes, ctrName, shortId } from "./format.ts";
import type { ContainerSummary, ImageHistoryResponseItem, ImageSummary } from "./types.ts";
import { attempt, confirmAction, Field, Header, ListTable, Status, useLive } from "./ui.tsx";

interface Layer {
  id: string;
  status: string;
  /** Whether byte progress was ever reported (downloads and extractions report it). */
  progressed: boolean;
  current?: number;
  total?: number;
}

interface PullLine {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
}

/** Splits `name[:tag]` (a registry port is not a tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const m = /^(.*?)(?::([^:/]+))?$/.exec(ref.trim());
  return { repo: m?.[1] ?? ref, tag: m?.[2] ?? "latest" };
}

function Pull() {
  const [ref, setRef] = useState("");
  const [layers, setLayers] = useState<Layer[]>([]);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const pull = async (e: Event) => {
    e.preventDefault();
    if (!ref.trim()) return;
    setBusy(true);
    setLayers([]);
    setStatus(`Pulling ${ref}…`);
    const by = new Map<string, Layer>();
    let error = "";
    const { repo, tag } = splitRef(ref);
    const q = ref.includes("@") ? { fromImage: `${repo}@${tag}` } : { fromImage: repo, tag };
    await attempt("Pull", async () => {
      await streamLines<PullLine>(apiUrl("/images/create", q), {
        method: "POST",
        signal: new AbortController().signal,
        onLine: (l) => {
          if (l.error) error = l.error;
          else if (l.id && l.status && !l.status.startsWith("Pulling from")) {
            by.set(l.id, {
              id: l.id,
              status: l.status,
              progressed: !!by.get(l.id)?.progressed || !!l.progressDetail?.total,
              current: l.progressDetail?.current,
              total: l.progressDetail?.total,
            });
            setLayers([...by.values()]);
          } else if (l.status) setStatus(l.status);
        },
      });
      if (error) throw new Error(error);
    });
    setStatus(error ? `Failed: ${error}` : "Pull complete");
    setBusy(false);
  };
  return (
    <form class="card" aria-label="Pull an image" onSubmit={(e) => void pull(e)}>
      <div class="row wrap">
        <Field
          label="Image to pull"
          value={ref}
          onInput={setRef}
          placeholder="registry:5000/name:tag"
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          Pull
        </button>
      </div>
      <p class="muted" aria-live="polite" data-pull-status>
        {status}
      </p>
      {layers.length > 0 && (
        <ul class="layers" aria-label="Layers">
          {layers.map((l) => (
            <li key={l.id} data-layer={l.id} data-progressed={l.progressed ? "yes" : "no"}>
              <code>{l.id}</code> <span>{l.status}</span>
              {l.total ? (
                <progress max={l.total} value={l.current ?? 0} aria-label={`Layer ${l.id} progress`}>
                  {Math.round(((l.current ?? 0) / l.total) * 100)}%
                </progress>
              ) : null}
              {l.total ? <small class="muted"> {`${bytes(l.current)} / ${bytes(l.total)}`}</small> : null}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function History(props: { id: string }) {
  const h = useLive(() => api<ImageHistoryResponseItem[]>("GET", `/images/${props.id}/history`), {
    deps: [props.id],
  });
  return (
    <section class="card" aria-label="Image history">
      <h3>History of {shortId(props.id)}</h3>
      <Status error={h.error} loading={!h.data} />
      <div class="scroll">
        <ListTable columns={["Created", "Created by", { label: "Size", num: true }]}>
          {(h.data ?? []).map((l, i) => (
            <tr key={i}>
              <td>{ago(l.Created)}</td>
              <td class="mono wrap-any">{l.CreatedBy}</td>
              <td class="num">{bytes(l.Size)}</td>
            </tr>
          ))}
        </ListTable>
      </div>
    </section>
  );
}

function TagForm(props: { img: ImageSummary; onDone: () => void }) {
  const [target, setTarget] = useState("");
  const name = props.img.RepoTags?.[0] ?? shortId(props.img.Id);
  const submit = async (e: Event) => {
    e.preventDefault();
    const { repo, tag } = splitRef(target);
    const ok = await attempt(
      "Tag",
      () => api("POST", `/images/${props.img.Id}/tag`, { query: { repo, tag } }),
      `Tagged ${target}`,
    );
    if (ok) props.onDone();
  };
  return (
    <form class="card row wrap" aria-label={`Tag ${name}`} onSubmit={(e) => void submit(e)}>
      <Field
        label={`New tag for ${name}`}
        value={target}
        onInput={setTarget}
        required
        placeholder="name:tag"
      />
      <button type="submit" class="primary">
        Tag
      </button>
      <button type="button" onClick={props.onDone}>
        Cancel
      </button>
    </form>
  );
}

async function remove(img: ImageSummary, ref: string): Promise<void> {
  if (!(await confirmAction(`Remove image ${ref}?`, "Remove"))) return;
  await attempt("Remove", () => api("DELETE", `/images/${ref}`), `Removed ${ref}`);
  void img;
}

async function prune(): Promise<void> {
  if (!(await confirmAction("Remove all dangling images?", "Prune"))) return;
  await attempt(
    "Prune",
    async () => {
      const r = await api<{ SpaceReclaimed?: number }>("POST", "/images/prune");
      return r;
    },
    "Pruned dangling images",
  );
}

/** The images page; `focus` is an image ID whose history is shown. */
export function ImagesPage(props: { focus?: string }) {
  const imgs = useLive(() => api<ImageSummary[]>("GET", "/images/json"), {
    deps: [],
    when: (e) => e.Type === "image",
  });
  const ctrs = useLive(() => api<ContainerSummary[]>("GET", "/containers/json", { query: { all: true } }), {
    deps: [],
    when: (e) => e.Type === "container" && (e.Action === "create" || e.Action === "destroy"),
  });
  const users = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of ctrs.data ?? []) m.set(c.ImageID, [...(m.get(c.ImageID) ?? []), ctrName(c.Names)]);
    return m;
  }, [ctrs.data]);
  const [tagging, setTagging] = useState<string | undefined>(undefined);
  const list = [...(imgs.data ?? [])].sort((a, b) => b.Created - a.Created);
  const tagged = list.find((i) => i.Id === tagging);
  return (
    <>
      <Header title="Images">
        <button type="button" onClick={() => void prune()}>
          Prune dangling
        </button>
      </Header>
      <Pull />
      {tagged && <TagForm img={tagged} onDone={() => setTagging(undefined)} />}
      <Status error={imgs.error} loading={!imgs.data} />
      <div class="scroll">
        <ListTable
          columns={["Tags", "ID", "Created", { label: "Size", num: true }, "Used by", "Actions"]}
          cards
        >
          {list.map((img) => {
            const tags = (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
            const ref = tags[0] ?? img.Id;
            const u = users.get(img.Id) ?? [];
            return (
              <tr key={img.Id} data-image={tags.join(" ")}>
                <th scope="row">
                  {tags.length ? (
                    tags.map((t) => <div key={t}>{t}</div>)
                  ) : (
                    <span class="muted">&lt;none&gt;</span>
                  )}
                </th>
                <td data-label="ID">
                  <a href={`#/images/${img.Id}`} aria-label={`History of ${ref}`}>
                    <code>{shortId(img.Id)}</code>
                  </a>
                </td>
                <td data-label="Created">{ago(img.Created)}</td>
                <td class="num" data-label="Size">
                  {bytes(img.Size)}
                </td>
                <td data-label="Used by">{u.length ? u.join(", ") : <span class="muted">—</span>}</td>
                <td data-label="Actions">
                  <div class="actions">
                    <button
                      type="button"
                      class="small"
                      aria-label={`Tag ${ref}`}
                      onClick={() => setTagging(img.Id)}
                    >
                      tag
                    </button>
                    <button
                      type="button"
                      class="small danger"
                      aria-label={`Remove ${ref}`}
                      onClick={() => void remove(img, ref)}
                    >
                      remove
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
        </ListTable>
      </div>
      {props.focus && <History id={props.focus} />}
    </>
  );
}
