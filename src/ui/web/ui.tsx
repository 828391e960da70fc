// Pieces every page uses: data loaded and reloaded on events, confirmation dialogs, notices, tabs,
// definition lists and raw JSON.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { events } from "./api.ts";
import type { EventMessage } from "./types.ts";

/** The state of data a page loads. */
export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  reload: () => void;
}

/**
 * Loads data and loads it again whenever a daemon event matches `when` (batched: a burst of events from
 * one `compose up` costs one reload). This is how pages stay live without polling.
 */
export function useLive<T>(
  load: () => Promise<T>,
  opts: { deps: unknown[]; when?: (e: EventMessage) => boolean },
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const seq = useRef(0);
  const reload = useCallback(() => {
    const n = ++seq.current;
    load().then(
      (d) => {
        if (n !== seq.current) return;
        setData(d);
        setError(undefined);
      },
      (e: Error) => {
        if (n === seq.current) setError(e.message);
      },
    );
  }, opts.deps);
  useEffect(() => {
    reload();
    if (!opts.when) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const when = opts.when;
    const off = events.subscribe((e) => {
      if (!when(e)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 120);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [reload]);
  return { data, error, reload };
}

type Notice = { id: number; text: string; kind: "ok" | "error" };
let pushNotice: (n: Omit<Notice, "id">) => void = () => {};

/** Shows a short message in the page's live region (read out by screen readers). */
export function notify(text: string, kind: "ok" | "error" = "ok"): void {
  pushNotice({ text, kind });
}

/** Runs an action, reporting its failure (or `done`) as a notice. */
export async function attempt(what: string, fn: () => Promise<unknown>, done?: string): Promise<boolean> {
  try {
    await fn();
    if (done) notify(done);
    return true;
  } catch (e) {
    notify(`${what}: ${(e as Error).message}`, "error");
    return false;
  }
}

/** Where notices appear. */
export function Notices() {
  const [list, setList] = useState<Notice[]>([]);
  useEffect(() => {
    let n = 0;
    pushNotice = (x) => {
      const id = ++n;
      setList((l) => [...l.slice(-3), { ...x, id }]);
      setTimeout(() => setList((l) => l.filter((y) => y.id !== id)), x.kind === "error" ? 8000 : 3000);
    };
  }, []);
  return (
    <div class="notices" aria-live="polite" role="status">
      {list.map((n) => (
        <p key={n.id} class={`notice ${n.kind}`}>
          {n.text}
        </p>
      ))}
    </div>
  );
}

type Ask = { text: string; action: string; resolve: (ok: boolean) => void };
let pushAsk: (a: Ask) => void = () => {};

/** Asks the user to confirm a destructive action in a modal dialog. */
export function confirmAction(text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => pushAsk({ text, action, resolve }));
}

/** The confirmation dialog (a native <dialog>: focus trap and Escape come with it). */
export function ConfirmHost() {
  const [ask, setAsk] = useState<Ask | undefined>(undefined);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    pushAsk = setAsk;
  }, []);
  useEffect(() => {
    if (ask && ref.current && !ref.current.open) ref.current.showModal();
  }, [ask]);
  const close = (ok: boolean) => {
    ref.current?.close();
    ask?.resolve(ok);
    setAsk(undefined);
  };
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-text" onCancel={() => close(false)}>
      <p id="confirm-text">{ask?.text}</p>
      <div class="row end">
        <button type="button" onClick={() => close(false)}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => close(true)}>
          {ask?.action}
        </button>
      </div>
    </dialog>
  );
}

/** A tab strip with arrow-key navigation; renders only the chosen panel. */
export function Tabs(props: { tabs: [string, string][]; current: string; onPick: (key: string) => void }) {
  const onKey = (e: KeyboardEvent) => {
    const i = props.tabs.findIndex(([k]) => k === props.current);
    const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!d) return;
    const next = props.tabs[(i + d + props.tabs.length) % props.tabs.length][0];
    props.onPick(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return (
    <div class="tabs" role="tablist" onKeyDown={onKey}>
      {props.tabs.map(([key, label]) => (
        <button
          type="button"
          key={key}
          id={`tab-${key}`}
          role="tab"
          aria-selected={key === props.current}
          tabIndex={key === props.current ? 0 : -1}
          onClick={() => props.onPick(key)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** A titled list of label/value pairs. */
export function Facts(props: { title: string; rows: [string, ComponentChildren][] }) {
  const rows = props.rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return (
    <section class="card">
      <h3>{props.title}</h3>
      {rows.length === 0 ? (
        <p class="muted">None</p>
      ) : (
        <dl>
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

/** Raw JSON, as `docker inspect` prints it. */
export function Json(props: { value: unknown; label: string }) {
  return (
    <figure class="json-wrap">
      <figcaption class="sr-only">{props.label}</figcaption>
      <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>
    </figure>
  );
}

/** A page's heading with its actions beside it. */
export function Header(props: { title: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h2>{props.title}</h2>
      <div class="row wrap">{props.children}</div>
    </div>
  );
}

/** A failure message, or a placeholder while loading. */
export function Status(props: { error?: string; loading: boolean }) {
  if (props.error)
    return (
      <p class="error" role="alert">
        {props.error}
      </p>
    );
  return props.loading ? <p class="muted">Loading…</p> : null;
}

/** A labelled text field. */
export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  hint?: string;
  required?: boolean;
  placeholder?: string;
}) {
  const { label, value, onInput, hint, ...rest } = props;
  const id = `f-${label.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        value={value}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        {...rest}
      />
      {hint && (
        <small id={`${id}-hint`} class="muted">
          {hint}
        </small>
      )}
    </div>
  );
}

/** A column of a list table: its heading, right-aligned (`num`) for figures. */
export type Column = string | { label: string; num: true };

/** A list table: a heading per column, then the rows given; `cards` shows the rows as cards on phones. */
export function ListTable(props: { columns: Column[]; cards?: boolean; children: ComponentChildren }) {
  return (
    <table class={props.cards ? "list cards-on-phone" : "list"}>
      <thead>
        <tr>
          {props.columns.map((c) =>
            typeof c === "string" ? (
              <th key={c} scope="col">
                {c}
              </th>
            ) : (
              <th key={c.label} scope="col" class="num">
                {c.label}
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}
