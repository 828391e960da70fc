/**
 * The single-use tokens in streaming URLs, as kubelet's request cache has them: 8 random bytes in URL-safe
 * base64, valid for one minute, consumed by the first request that presents them, at most 1000 waiting.
 */
import { randomBytes } from "node:crypto";
import { UnavailableError } from "../../errdefs/index.ts";

/** kubelet's cacheTTL. */
export const TOKEN_TTL_MS = 60_000;
/** kubelet's maxInFlight. */
export const MAX_IN_FLIGHT = 1000;

/** The requests the core handed out URLs for, keyed by token, until used or expired. */
export class RequestCache<T> {
  readonly #entries = new Map<string, { req: T; expires: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; max?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? TOKEN_TTL_MS;
    this.#max = opts.max ?? MAX_IN_FLIGHT;
    this.#now = opts.now ?? Date.now;
  }

  /** Stores `req` and returns its new token; throws UnavailableError when too many are waiting. */
  insert(req: T): string {
    this.#evictExpired();
    if (this.#entries.size >= this.#max)
      throw new UnavailableError("maximum number of in-flight requests exceeded");
    let token: string;
    do token = randomBytes(8).toString("base64url");
    while (this.#entries.has(token));
    this.#entries.set(token, { req, expires: this.#now() + this.#ttlMs });
    return token;
  }

  /** Takes the request of `token` out of the cache; undefined when unknown, used or expired. */
  consume(token: string): T | undefined {
    const e = this.#entries.get(token);
    if (!e) return undefined;
    this.#entries.delete(token);
    return e.expires > this.#now() ? e.req : undefined;
  }

  /** How many tokens are waiting (expired ones included until the next insert). */
  get size(): number {
    return this.#entries.size;
  }

  #evictExpired(): void {
    const now = this.#now();
    // Map iteration is insertion order and every entry has the same TTL: the oldest come first.
    for (const [token, e] of this.#entries) {
      if (e.expires > now) break;
      this.#entries.delete(token);
    }
  }
}
