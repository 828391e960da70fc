import { randomInt } from "node:crypto";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";

// Docker names unnamed containers adjective_surname; clients only rely on the shape, so the lists are ours.
const adjectives = [
  "agile",
  "bold",
  "brave",
  "bright",
  "calm",
  "clever",
  "cool",
  "crisp",
  "daring",
  "eager",
  "fervent",
  "fond",
  "gallant",
  "gentle",
  "happy",
  "hardy",
  "jolly",
  "keen",
  "kind",
  "lively",
  "loyal",
  "lucid",
  "merry",
  "mellow",
  "nimble",
  "noble",
  "patient",
  "placid",
  "plucky",
  "proud",
  "quick",
  "quiet",
  "rapid",
  "serene",
  "sharp",
  "shy",
  "steady",
  "stoic",
  "sunny",
  "swift",
  "tender",
  "tidy",
  "upbeat",
  "vivid",
  "warm",
  "wise",
  "witty",
  "zealous",
];
const surnames = [
  "babbage",
  "banach",
  "bohr",
  "boole",
  "cantor",
  "curie",
  "darwin",
  "dijkstra",
  "euclid",
  "euler",
  "faraday",
  "fermat",
  "feynman",
  "galois",
  "gauss",
  "hamilton",
  "hilbert",
  "hopper",
  "huygens",
  "kepler",
  "knuth",
  "lamport",
  "laplace",
  "leibniz",
  "lovelace",
  "maxwell",
  "meitner",
  "mendel",
  "newton",
  "noether",
  "pascal",
  "planck",
  "poincare",
  "ramanujan",
  "riemann",
  "ritchie",
  "shannon",
  "thompson",
  "torvalds",
  "turing",
  "volta",
  "wiles",
];

/** Docker's rule for container names (after an optional leading slash). */
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Validates a user-given name and returns it with its leading slash, as Docker stores names. */
export function normalizeName(name: string): string {
  if (!NAME_RE.test(name))
    throw new InvalidParameterError(
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  return name.startsWith("/") ? name : `/${name}`;
}

/** In-memory index of container IDs and names: every lookup is a map hit, never a scan of the store. */
export class ContainerIndex<T> {
  readonly #byId = new Map<string, T>();
  readonly #idByName = new Map<string, string>();

  /** All entries. */
  values(): IterableIterator<T> {
    return this.#byId.values();
  }

  /** Number of containers. */
  get size(): number {
    return this.#byId.size;
  }

  /** Adds a container under its ID and name ("/x"); a taken name is Docker's conflict. */
  add(id: string, name: string, value: T): void {
    this.reserveName(name, id);
    this.#byId.set(id, value);
  }

  /** Claims a name for an ID, refusing a name another container holds. */
  reserveName(name: string, id: string): void {
    const holder = this.#idByName.get(name);
    if (holder && holder !== id)
      throw new ConflictError(
        `Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    this.#idByName.set(name, id);
  }

  /** Frees a name. */
  releaseName(name: string): void {
    this.#idByName.delete(name);
  }

  /** Removes a container and its name. */
  delete(id: string, name: string): void {
    this.#byId.delete(id);
    if (this.#idByName.get(name) === id) this.#idByName.delete(name);
  }

  /** A free generated name like "brave_turing". */
  generateName(): string {
    for (let i = 0; ; i++) {
      let n = `/${adjectives[randomInt(adjectives.length)]}_${surnames[randomInt(surnames.length)]}`;
      if (i > 10) n += randomInt(10);
      if (!this.#idByName.has(n)) return n;
    }
  }

  /** Finds by full ID, name (with or without slash) or unique ID prefix; Docker's errors otherwise. */
  get(ref: string): T {
    const found = this.find(ref);
    if (!found) throw new NotFoundError(`No such container: ${ref}`);
    return found;
  }

  /** Like get, but undefined when missing. */
  find(ref: string): T | undefined {
    if (!ref) return undefined;
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    const byName = this.#idByName.get(ref.startsWith("/") ? ref : `/${ref}`);
    if (byName) return this.#byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let hit: T | undefined;
    for (const [id, v] of this.#byId) {
      if (!id.startsWith(ref)) continue;
      if (hit) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
      hit = v;
    }
    return hit;
  }
}
