// A shell in the container: @xterm/xterm in the page, a WebSocket to the server, which bridges it to an
// exec with a TTY; the exec is resized whenever the panel is.
import { FitAddon } from "@xterm/addon-fit";
import { Terminal as XTerm } from "@xterm/xterm";
import { useEffect, useRef, useState } from "preact/hooks";

/** The terminal panel. */
export function Terminal(props: { id: string; running: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState("connecting");
  const [session, setSession] = useState(0);
  useEffect(() => {
    if (!props.running || !host.current) return;
    const term = new XTerm({
      cursorBlink: true,
      fontSize: 14,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace",
      theme: { background: "#101418", foreground: "#e6e6e6" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host.current);
    fit.fit();
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ container: props.id, cols: String(term.cols), rows: String(term.rows) });
    const ws = new WebSocket(`${proto}//${location.host}/api/ui/terminal?${q}`);
    ws.binaryType = "arraybuffer";
    const enc = new TextEncoder();
    ws.onopen = () => {
      setState("connected");
      term.focus();
    };
    ws.onmessage = (e) =>
      term.write(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
    ws.onclose = (e) => setState(e.code === 1000 ? "exited" : `closed${e.reason ? `: ${e.reason}` : ""}`);
    const input = term.onData((d) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
    });
    const resized = term.onResize(({ cols, rows }) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resize", cols, rows }));
    });
    const obs = new ResizeObserver(() => fit.fit());
    obs.observe(host.current);
    return () => {
      obs.disconnect();
      input.dispose();
      resized.dispose();
      ws.close();
      term.dispose();
    };
  }, [props.id, props.running, session]);
  if (!props.running) return <p class="muted">Start the container to open a terminal.</p>;
  return (
    <section aria-label="Terminal">
      <div class="row toolbar">
        <span class="muted" aria-live="polite" data-terminal-state={state}>
          Shell: {state}
        </span>
        {state !== "connected" && state !== "connecting" && (
          <button
            type="button"
            onClick={() => {
              setState("connecting");
              setSession(session + 1);
            }}
          >
            Reconnect
          </button>
        )}
      </div>
      <div class="terminal" ref={host} />
    </section>
  );
}
