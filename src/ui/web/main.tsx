// The dashboard's shell: navigation, the hash router and the live-connection indicator.
// The styles of the lazily loaded terminal and charts ride in app.css: split chunks' CSS is not loaded by itself.
import "@xterm/xterm/css/xterm.css";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { events } from "./api.ts";
import { ContainerPage } from "./container.tsx";
import { ContainersPage } from "./containers.tsx";
import { ImagesPage } from "./images.tsx";
import { NetworksPage, VolumesPage } from "./resources.tsx";
import { SystemPage } from "./system.tsx";
import { ConfirmHost, Notices } from "./ui.tsx";

const NAV: [string, string][] = [
  ["containers", "Containers"],
  ["images", "Images"],
  ["volumes", "Volumes"],
  ["networks", "Networks"],
  ["system", "System"],
];

function useHash(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, "")
      .split("/")
      .map((s) => decodeURIComponent(s));
  const [parts, setParts] = useState(parse);
  useEffect(() => {
    const on = () => setParts(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return parts;
}

function Live() {
  const [on, setOn] = useState(events.connected);
  useEffect(() => events.onStatus(setOn), []);
  return (
    <span class={`live ${on ? "on" : "off"}`} title="Daemon event stream">
      {on ? "live" : "reconnecting"}
    </span>
  );
}

function Page(props: { parts: string[] }) {
  const [section, id, tab] = props.parts;
  switch (section || "containers") {
    case "containers":
      return id ? <ContainerPage id={id} tab={tab || "overview"} /> : <ContainersPage />;
    case "images":
      return <ImagesPage focus={id} />;
    case "volumes":
      return <VolumesPage focus={id} />;
    case "networks":
      return <NetworksPage focus={id} />;
    case "system":
      return <SystemPage />;
    default:
      return <p>No such page.</p>;
  }
}

function App() {
  const parts = useHash();
  const section = parts[0] || "containers";
  useEffect(() => {
    const name = NAV.find(([k]) => k === section)?.[1] ?? "wharf";
    document.title = `${parts[1] && section === "containers" ? parts[1].slice(0, 12) : name} · wharf`;
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [section, parts[1]]);
  // Subscribe early so the header shows the stream state on every page.
  useEffect(() => events.subscribe(() => {}), []);
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <h1>
          <a href="#/containers">wharf</a>
        </h1>
        <nav aria-label="Sections">
          {NAV.map(([k, label]) => (
            <a key={k} href={`#/${k}`} aria-current={k === section ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <Live />
      </header>
      <main id="main" tabIndex={-1}>
        <Page parts={parts} />
      </main>
      <Notices />
      <ConfirmHost />
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
