// Live CPU, memory, network and block IO charts of one container, from the shared stats stream.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { stats } from "./api.ts";
import { bytes, pct } from "./format.ts";
import type { Sample } from "./types.ts";

const POINTS = 120;

type Series = { label: string; color: string };

/** One chart: a time axis and a few series, fed a row of values per sample. */
function Chart(props: {
  title: string;
  /** The y axis shows at least 0..floor, so an idle container's chart is not all noise. */
  floor: number;
  series: Series[];
  fmt: (v: number) => string;
  feed: (fn: (t: number, v: number[]) => void) => () => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [last, setLast] = useState<number[] | undefined>(undefined);
  const [samples, setSamples] = useState(0);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const data: number[][] = [[], ...props.series.map(() => [])];
    const plot = new uPlot(
      {
        width: el.clientWidth || 300,
        height: 160,
        legend: { show: false },
        scales: {
          // A fixed two-minute window: one sample alone must not stretch the axis over years.
          x: { time: true, range: (_u, _min, max) => [max - (POINTS - 1), max] },
          y: { range: (_u, _min, max) => [0, Math.max(max * 1.1, props.floor)] },
        },
        axes: [
          { stroke: "#555" },
          { stroke: "#555", size: 70, values: (_u, ticks) => ticks.map((v) => props.fmt(v)) },
        ],
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      data as uPlot.AlignedData,
      el,
    );
    const off = props.feed((t, v) => {
      data[0].push(t / 1000);
      for (const [i, x] of v.entries()) data[i + 1].push(x);
      if (data[0].length > POINTS) for (const d of data) d.shift();
      plot.setData(data as uPlot.AlignedData);
      setLast(v);
      setSamples((n) => n + 1);
    });
    const obs = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 300, height: 160 }));
    obs.observe(el);
    return () => {
      off();
      obs.disconnect();
      plot.destroy();
    };
  }, []);
  return (
    <figure class="card chart" data-samples={samples}>
      <figcaption>
        <strong>{props.title}</strong>{" "}
        {props.series.map((s, i) => (
          <span key={s.label} class="legend" style={{ borderColor: s.color }}>
            {s.label}: <output>{last ? props.fmt(last[i]) : "…"}</output>
          </span>
        ))}
      </figcaption>
      <div ref={host} role="img" aria-label={`${props.title} over the last two minutes`} />
    </figure>
  );
}

/** Turns counters (bytes so far) into rates per second between samples. */
function rates(prev: Sample | undefined, s: Sample, keys: (keyof Sample)[]): number[] {
  if (!prev) return keys.map(() => 0);
  const dt = Math.max((s.t - prev.t) / 1000, 0.001);
  return keys.map((k) => Math.max(0, ((s[k] as number) - (prev[k] as number)) / dt));
}

/** The stats panel. */
export function Charts(props: { id: string; running: boolean }) {
  if (!props.running) return <p class="muted">The container is not running.</p>;
  const feed =
    (pick: (s: Sample, prev: Sample | undefined) => number[]) => (fn: (t: number, v: number[]) => void) => {
      let prev: Sample | undefined;
      for (const s of stats.history.get(props.id) ?? []) {
        fn(s.t, pick(s, prev));
        prev = s;
      }
      return stats.subscribe(props.id, (s) => {
        fn(s.t, pick(s, prev));
        prev = s;
      });
    };
  const rate = (v: number) => `${bytes(v)}/s`;
  return (
    <div class="charts">
      <Chart
        title="CPU"
        floor={1}
        series={[{ label: "usage", color: "#1f6feb" }]}
        fmt={pct}
        feed={feed((s) => [s.cpu])}
      />
      <Chart
        title="Memory"
        floor={1e6}
        series={[{ label: "used", color: "#8250df" }]}
        fmt={bytes}
        feed={feed((s) => [s.mem])}
      />
      <Chart
        title="Network"
        floor={1e3}
        series={[
          { label: "rx", color: "#1a7f37" },
          { label: "tx", color: "#bc4c00" },
        ]}
        fmt={rate}
        feed={feed((s, p) => rates(p, s, ["netRx", "netTx"]))}
      />
      <Chart
        title="Block IO"
        floor={1e3}
        series={[
          { label: "read", color: "#0969da" },
          { label: "write", color: "#cf222e" },
        ]}
        fmt={rate}
        feed={feed((s, p) => rates(p, s, ["blkRead", "blkWrite"]))}
      />
    </div>
  );
}
