import type { EventMessage, EventSink } from "../apitypes/index.ts";
import { nowNs } from "../util/index.ts";

/** An event as sent on /events: v1.47's fields plus the deprecated status/id/from that docker-py still reads. */
export type WireEvent = EventMessage & { status?: string; id?: string; from?: string };

/**
 * Keeps the recent events for `since` replays and fans new ones out to subscribers (the /events stream).
 * Bounded: the oldest events are dropped past `capacity`.
 */
export class EventBus {
  readonly #buffer: WireEvent[] = [];
  readonly #subs = new Set<(e: WireEvent) => void>();
  readonly #capacity: number;

  constructor(opts: { capacity?: number } = {}) {
    this.#capacity = opts.capacity ?? 1024;
  }

  /** Records and publishes an event. */
  readonly emit: EventSink = (e) => {
    const ns = nowNs();
    const msg: WireEvent = {
      Type: e.Type,
      Action: e.Action,
      Actor: { ID: e.Actor.ID, Attributes: e.Actor.Attributes ?? {} },
      scope: "local",
      time: Number(ns / 1_000_000_000n),
      timeNano: Number(ns),
    };
    if (e.Type === "container" || e.Type === "image") {
      msg.status = e.Action;
      msg.id = e.Actor.ID;
      if (e.Actor.Attributes?.image) msg.from = e.Actor.Attributes.image;
    }
    this.#buffer.push(msg);
    if (this.#buffer.length > this.#capacity) this.#buffer.shift();
    for (const s of this.#subs) s(msg);
  };

  /** Events recorded at or after `sinceNs`. */
  history(sinceNs: bigint): WireEvent[] {
    return this.#buffer.filter((m) => BigInt(m.timeNano ?? 0) >= sinceNs);
  }

  /** Subscribes to new events; returns the unsubscribe function. */
  subscribe(fn: (e: WireEvent) => void): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }
}
