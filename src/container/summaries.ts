import type { ContainerSummary } from "../apitypes/index.ts";
import type { Container } from "./container.ts";
import type { NetworkViews } from "./deps.ts";
import type { ContainerRecord } from "./model.ts";
import { statusText, toSummary } from "./view.ts";

/** A container's list entry as JSON bytes, cut around its Status, and what it was built from. */
interface Entry {
  record: ContainerRecord;
  state: string;
  net: number;
  /** The entry up to and including `"Status":`. */
  head: Buffer;
  /** The rest after the Status value, closing brace included. */
  tail: Buffer;
  /** The Status last written, and its JSON. */
  status: string;
  statusJson: Buffer;
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]\n");
const EMPTY = Buffer.alloc(0);

/**
 * The encoded entries of GET /containers/json, kept per container. With 500 containers, building and
 * stringifying the summaries was most of the request (a CPU profile: JSON.stringify, the network views, the
 * garbage they left); now an entry is rebuilt only when what it shows changed: the record (replaced, never
 * edited, on rename, update and link removal), the state's status word, or the network service's version of
 * the container's networking. Status ("Up 5 minutes") moves with the clock, so it is written afresh each time.
 */
export class SummaryCache {
  readonly #entries = new WeakMap<Container, Entry>();
  readonly #network: NetworkViews;

  constructor(network: NetworkViews) {
    this.#network = network;
  }

  /** The response body for these containers, in this order: `JSON.stringify` of their summaries plus "\n". */
  encode(rows: readonly { c: Container; createdSec: number }[], nowMs = Date.now()): Buffer {
    const parts: Buffer[] = [OPEN];
    for (let i = 0; i < rows.length; i++) {
      const { c, createdSec } = rows[i];
      const e = this.#entry(c, createdSec);
      if (i) parts.push(COMMA);
      // "Up 5 minutes" stays the same for a while: its bytes are kept too.
      const status = statusText(c.state, nowMs);
      if (status !== e.status) {
        e.status = status;
        e.statusJson = Buffer.from(JSON.stringify(status));
      }
      parts.push(e.head, e.statusJson, e.tail);
    }
    parts.push(CLOSE);
    return Buffer.concat(parts);
  }

  #entry(c: Container, createdSec: number): Entry {
    const net = this.#network.summaryVersion(c.id);
    const old = this.#entries.get(c);
    if (old && old.record === c.record && old.state === c.state.status && old.net === net) return old;
    const fresh = {
      record: c.record,
      state: c.state.status,
      net,
      ...splitAtStatus(toSummary(c, this.#network.summary(c.id), createdSec)),
      status: "",
      statusJson: EMPTY,
    };
    this.#entries.set(c, fresh);
    return fresh;
  }
}

/** The JSON of a summary as the bytes before its Status value and after it, fields in the same order. */
export function splitAtStatus(s: ContainerSummary): { head: Buffer; tail: Buffer } {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let seen = false;
  for (const [k, v] of Object.entries(s)) {
    if (k === "Status") seen = true;
    else if (seen) after[k] = v;
    else before[k] = v;
  }
  const h = JSON.stringify(before);
  const t = JSON.stringify(after);
  return {
    head: Buffer.from(`${h === "{}" ? "{" : `${h.slice(0, -1)},`}"Status":`),
    tail: Buffer.from(t === "{}" ? "}" : `,${t.slice(1)}`),
  };
}
