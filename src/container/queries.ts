import type { ContainerInspectResponse, ContainerSummary } from "../apitypes/index.ts";
import { InvalidParameterError, isNotFound } from "../errdefs/index.ts";
import { parseLink, parseRfc3339Ns } from "../util/index.ts";
import type { Container } from "./container.ts";
import type { NetworkViews } from "./deps.ts";
import { matchesFilters, validateFilters } from "./filters.ts";
import type { Registry } from "./registry.ts";
import { SummaryCache } from "./summaries.ts";
import { toInspect, toSummary } from "./view.ts";

/** What a container list asks: `-a`, `-n`, `--filter`. */
export interface ListOptions {
  all?: boolean;
  limit?: number;
  filters?: Record<string, string[]>;
}

/** A record's Created, parsed. */
interface Created {
  text: string;
  ns: bigint;
  sec: number;
}

/** Read-only views of the containers: inspect, list, counts and image use. */
export class Queries {
  readonly #r: Registry;
  readonly #network: NetworkViews;
  readonly #execIds: (containerId: string) => string[];
  readonly #summaries: SummaryCache;
  readonly #createdOf = new WeakMap<Container, Created>();

  constructor(deps: {
    registry: Registry;
    network: NetworkViews;
    execIds: (containerId: string) => string[];
  }) {
    this.#r = deps.registry;
    this.#network = deps.network;
    this.#execIds = deps.execIds;
    this.#summaries = new SummaryCache(deps.network);
  }

  /** GET /containers/{id}/json */
  inspect(ref: string): ContainerInspectResponse {
    const c = this.#r.get(ref);
    return toInspect(c, {
      dir: this.#r.dir(c.id),
      lowerDirs: [],
      networkSettings: this.#network.settings(c.id),
      execIds: this.#execIds(c.id),
      links: this.#links(c),
    });
  }

  /**
   * HostConfig.Links as dockerd shows them: `/<child>:/<parent>/<alias>`, with both containers' names as they
   * are now (a rename shows), whatever form the create request used; links to removed containers are gone.
   */
  #links(c: Container): string[] | undefined {
    const out: string[] = [];
    for (const l of c.record.HostConfig.Links ?? []) {
      const { target, alias } = parseLink(l);
      let child: Container;
      try {
        child = this.#r.get(target);
      } catch {
        continue;
      }
      out.push(`${child.record.Name}:${c.record.Name}/${alias}`);
    }
    return out.length ? out : undefined;
  }

  /** GET /containers/json */
  list(opts: ListOptions): ContainerSummary[] {
    return this.#select(opts).map(({ c, createdSec }) =>
      toSummary(c, this.#network.summary(c.id), createdSec),
    );
  }

  /** GET /containers/json without sizes, as its response body: the same JSON as `list`, from kept entries. */
  listJson(opts: ListOptions): Buffer {
    return this.#summaries.encode(this.#select(opts));
  }

  /** The containers a list shows, newest first. */
  #select(opts: ListOptions): { c: Container; createdSec: number }[] {
    const r = this.#r;
    const filters = opts.filters ?? {};
    validateFilters(filters);
    // Docker lists stopped containers without -a only when a status filter asks for them, or with -n.
    const all = opts.all || (opts.limit ?? 0) > 0 || "status" in filters;
    const lookupCreated = (ref: string): bigint => {
      try {
        return parseRfc3339Ns(r.get(ref).record.Created);
      } catch (e) {
        if (isNotFound(e)) throw new InvalidParameterError(`No such container: ${ref}`);
        throw e;
      }
    };
    // Created is parsed once per container and kept: a parse in the sort's comparator did ~9000 of them for
    // 500 containers, a third of the request's time in a CPU profile, and parsing them per list left most of
    // a young generation's worth of garbage each time.
    const noFilters = Object.keys(filters).length === 0;
    let out: { c: Container; created: Created }[] = [];
    for (const c of r.index.values()) {
      if (!all && !c.state.running) continue;
      if (!noFilters) {
        const net = () => this.#network.summary(c.id);
        if (!matchesFilters(c.record, c.state, filters, { createdOf: lookupCreated, net })) continue;
      }
      out.push({ c, created: this.#created(c) });
    }
    out.sort((a, b) => (b.created.ns > a.created.ns ? 1 : -1));
    if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
    return out.map(({ c, created }) => ({ c, createdSec: created.sec }));
  }

  #created(c: Container): Created {
    const kept = this.#createdOf.get(c);
    if (kept?.text === c.record.Created) return kept;
    const ns = parseRfc3339Ns(c.record.Created);
    const fresh = { text: c.record.Created, ns, sec: Number(ns / 1_000_000_000n) };
    this.#createdOf.set(c, fresh);
    return fresh;
  }

  /** Number of containers by state, for /info. */
  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    for (const c of this.#r.index.values()) {
      if (c.state.paused) paused++;
      else if (c.state.running) running++;
    }
    const total = this.#r.index.size;
    return { total, running, paused, stopped: total - running - paused };
  }

  /** Whether some container uses this image, and whether one of those runs (for rmi's conflict rules). */
  imageUse(imageId: string): { running: boolean; containerId: string } | undefined {
    let found: { running: boolean; containerId: string } | undefined;
    for (const c of this.#r.index.values()) {
      if (c.record.Image !== imageId) continue;
      if (c.state.running) return { running: true, containerId: c.id };
      found ??= { running: false, containerId: c.id };
    }
    return found;
  }
}
