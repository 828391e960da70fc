// Docker's detach keys, shared by the CLI (its own terminal) and the daemon (hijacked stdin), as both catch them.

/** Parses docker's detach keys (`ctrl-p,ctrl-q`, `a`, `ctrl-@`) into bytes. */
export function parseDetachKeys(spec: string): number[] {
  return spec.split(",").map((k) => {
    const key = k.trim();
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(key);
    if (!m) throw new RangeError(`Unknown character: '${key}'`);
    const c = m[1].toLowerCase();
    if (c >= "a" && c <= "z") return c.charCodeAt(0) - 96;
    return { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 }[c] ?? 0;
  });
}

/**
 * Watches typed input for the detach sequence, holding back a partial match as docker's escape proxy
 * does; returns the bytes to forward and whether the sequence completed.
 */
export class DetachWatcher {
  readonly #keys: number[];
  #matched = 0;

  constructor(keys: number[]) {
    this.#keys = keys;
  }

  /** Feeds a chunk; `detach` is true once the whole sequence was typed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // A broken sequence is sent on as typed.
      out.push(...this.#keys.slice(0, this.#matched));
      this.#matched = 0;
      if (b === this.#keys[0]) this.#matched = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
