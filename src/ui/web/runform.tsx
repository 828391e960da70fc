// "Run a container": the fields of `docker run -d` most people use, turned into a create request; the
// image is pulled first when the daemon does not have it, as `docker run` does.
import { useState } from "preact/hooks";
import { api, apiUrl, HttpError, streamLines } from "./api.ts";
import { attempt, Field, notify } from "./ui.tsx";

/** Splits a command line as a shell would for plain words and quotes (no expansions). */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = "";
      else if (ch === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      has = true;
    } else if (ch === "\\" && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}

/** What the form holds. */
export interface RunFields {
  image: string;
  name: string;
  command: string;
  env: string;
  ports: string;
  volumes: string;
  network: string;
  restart: string;
}

function words(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Builds `POST /containers/create`'s body from the form, as `docker run` parses its flags. */
export function createBody(f: RunFields): Record<string, unknown> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of words(f.ports)) {
    const [spec, proto = "tcp"] = p.split("/");
    const parts = spec.split(":");
    const ctr = parts.pop() ?? "";
    const hostPort = parts.pop() ?? "";
    const hostIp = parts.join(":");
    const key = `${ctr}/${proto}`;
    exposed[key] = {};
    bindings[key] = [...(bindings[key] ?? []), { HostIp: hostIp, HostPort: hostPort }];
  }
  const cmd = splitCommand(f.command);
  return {
    Image: f.image.trim(),
    Cmd: cmd.length ? cmd : undefined,
    Env: f.env
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean),
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      Binds: words(f.volumes),
      NetworkMode: f.network.trim() || undefined,
      RestartPolicy: { Name: f.restart || "no" },
    },
  };
}

async function pull(image: string, onStatus: (s: string) => void): Promise<void> {
  const [repo, tag] = /^(.*?)(?::([^:/]+))?$/.exec(image)?.slice(1) ?? [image];
  const ctl = new AbortController();
  let error = "";
  await streamLines<{ status?: string; error?: string }>(
    apiUrl("/images/create", { fromImage: repo, tag: tag || "latest" }),
    {
      method: "POST",
      signal: ctl.signal,
      onLine: (l) => {
        if (l.error) error = l.error;
        else if (l.status) onStatus(l.status);
      },
    },
  );
  if (error) throw new Error(error);
}

/** The run form; `onDone` after the container started. */
export function RunForm(props: { onDone: () => void }) {
  const [f, setF] = useState<RunFields>({
    image: "",
    name: "",
    command: "",
    env: "",
    ports: "",
    volumes: "",
    network: "",
    restart: "no",
  });
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k: keyof RunFields) => (v: string) => setF({ ...f, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!f.image.trim()) return notify("An image is needed", "error");
    setBusy(true);
    const body = createBody(f);
    const query = { name: f.name.trim() || undefined };
    const ok = await attempt(
      "Run",
      async () => {
        let created: { Id: string };
        try {
          created = await api<{ Id: string }>("POST", "/containers/create", { query, body });
        } catch (err) {
          if (!(err instanceof HttpError && err.status === 404 && /image/i.test(err.message))) throw err;
          setStatus(`Pulling ${f.image}…`);
          await pull(f.image.trim(), (s) => setStatus(s));
          created = await api<{ Id: string }>("POST", "/containers/create", { query, body });
        }
        setStatus("Starting…");
        await api("POST", `/containers/${created.Id}/start`);
      },
      `Started ${f.name || f.image}`,
    );
    setBusy(false);
    setStatus("");
    if (ok) props.onDone();
  };
  return (
    <form class="card form-grid" aria-label="Run a container" onSubmit={(e) => void submit(e)}>
      <Field label="Image" value={f.image} onInput={set("image")} required placeholder="busybox:latest" />
      <Field label="Name" value={f.name} onInput={set("name")} placeholder="optional" />
      <Field label="Command" value={f.command} onInput={set("command")} placeholder="sh -c 'sleep 1000'" />
      <Field
        label="Ports"
        value={f.ports}
        onInput={set("ports")}
        hint="host:container, e.g. 8080:80 53:53/udp"
      />
      <Field label="Volumes" value={f.volumes} onInput={set("volumes")} hint="name-or-path:/path[:ro]" />
      <Field label="Network" value={f.network} onInput={set("network")} placeholder="bridge" />
      <div class="field">
        <label for="f-env">Environment</label>
        <textarea
          id="f-env"
          rows={3}
          value={f.env}
          onInput={(e) => set("env")((e.target as HTMLTextAreaElement).value)}
          placeholder="KEY=value, one per line"
        />
      </div>
      <div class="field">
        <label for="f-restart">Restart policy</label>
        <select
          id="f-restart"
          value={f.restart}
          onChange={(e) => set("restart")((e.target as HTMLSelectElement).value)}
        >
          <option value="no">no</option>
          <option value="always">always</option>
          <option value="unless-stopped">unless-stopped</option>
          <option value="on-failure">on-failure</option>
        </select>
      </div>
      <div class="row end span">
        <span class="muted" aria-live="polite">
          {status}
        </span>
        <button type="submit" class="primary" disabled={busy}>
          Create and start
        </button>
      </div>
    </form>
  );
}
