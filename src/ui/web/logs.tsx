// A container's logs, followed live with the daemon's timestamps, searchable and downloadable.
import { useEffect, useRef, useState } from "preact/hooks";
import { apiUrl, Demuxer, streamBytes } from "./api.ts";

/** One log line: when, which stream, what. */
export interface LogLine {
  time: string;
  stream: "stdout" | "stderr";
  text: string;
}

const MAX_LINES = 5000;

/** Splits `2024-01-01T00:00:00.000000000Z text` into its time and text. */
export function splitTimestamp(line: string): { time: string; text: string } {
  const sp = line.indexOf(" ");
  if (sp > 0 && /^\d{4}-\d\d-\d\dT/.test(line)) return { time: line.slice(0, sp), text: line.slice(sp + 1) };
  return { time: "", text: line };
}

/** Accumulates bytes of one stream into lines (a partial last line waits for its end). */
class LineSplitter {
  #rest = "";
  readonly #dec = new TextDecoder();

  push(b: Uint8Array): string[] {
    this.#rest += this.#dec.decode(b, { stream: true });
    const parts = this.#rest.split("\n");
    this.#rest = parts.pop() ?? "";
    return parts.map((p) => p.replace(/\r$/, ""));
  }
}

/** The logs panel. */
export function Logs(props: { id: string; name: string; tty: boolean }) {
  const lines = useRef<LogLine[]>([]);
  const [, setTick] = useState(0);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const [ended, setEnded] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    lines.current = [];
    setEnded(false);
    const ctl = new AbortController();
    let frame = 0;
    const redraw = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setTick((n) => n + 1);
      });
    };
    const add = (stream: LogLine["stream"], texts: string[]) => {
      for (const t of texts) lines.current.push({ stream, ...splitTimestamp(t) });
      if (lines.current.length > MAX_LINES) lines.current.splice(0, lines.current.length - MAX_LINES);
      redraw();
    };
    const out = new LineSplitter();
    const err = new LineSplitter();
    const demux = new Demuxer();
    const url = apiUrl(`/containers/${props.id}/logs`, {
      stdout: true,
      stderr: true,
      timestamps: true,
      follow,
      tail: 1000,
    });
    streamBytes(url, {
      signal: ctl.signal,
      onChunk: (b) => {
        if (props.tty) return add("stdout", out.push(b));
        for (const f of demux.push(b)) {
          if (f.stream === 2) add("stderr", err.push(f.data));
          else add("stdout", out.push(f.data));
        }
      },
    })
      .catch(() => {})
      .finally(() => {
        if (!ctl.signal.aborted) setEnded(true);
      });
    return () => ctl.abort();
  }, [props.id, props.tty, follow]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  const q = query.trim().toLowerCase();
  const shown = q ? lines.current.filter((l) => l.text.toLowerCase().includes(q)) : lines.current;
  const download = () => {
    const text = lines.current.map((l) => `${l.time} ${l.text}`).join("\n");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([`${text}\n`], { type: "text/plain" }));
    a.download = `${props.name}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return (
    <section aria-label="Logs">
      <div class="row wrap toolbar">
        <div class="field">
          <label for="log-search">Search logs</label>
          <input
            id="log-search"
            type="search"
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow((e.target as HTMLInputElement).checked)}
          />
          Follow
        </label>
        <button type="button" onClick={download}>
          Download
        </button>
        <span class="muted" aria-live="polite">
          {q ? `${shown.length} of ${lines.current.length} lines` : `${lines.current.length} lines`}
          {ended && follow ? " · stream ended" : ""}
        </span>
      </div>
      <div
        class="logs"
        ref={box}
        role="log"
        aria-label={`Log output of ${props.name}`}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLDivElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown.map((l, i) => (
          <div key={i} class={`line ${l.stream}`}>
            <time>{l.time.replace("T", " ").replace(/\.\d+Z$/, "")}</time>
            <span>{l.text}</span>
          </div>
        ))}
      </div>
    </section>
  );
}
