import { join } from "node:path";
import type { EventSink } from "../apitypes/index.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import { RecordStore } from "../store/index.ts";
import { log, parseLink } from "../util/index.ts";
import { Container } from "./container.ts";
import type { NetworkBackend } from "./deps.ts";
import type { ExecTarget } from "./exec.ts";
import type { ContainerRecord, ContainerStateDoc } from "./model.ts";
import { ContainerIndex, normalizeName } from "./names.ts";
import { State } from "./state.ts";

/**
 * The containers in memory and on disk: lookup by ID, name or prefix, the record store, state persistence
 * and container events. Of the other services it knows only the network's rename hook: each part takes
 * what it uses beside it.
 */
export class Registry {
  readonly store: RecordStore<ContainerRecord>;
  readonly index = new ContainerIndex<Container>();
  readonly #events: EventSink;
  /** Told of renames: a container's DNS names follow its name. */
  readonly #network: Pick<NetworkBackend, "rename" | "unlink">;

  constructor(opts: {
    root: string;
    tmpDir: string;
    events: EventSink;
    network: Pick<NetworkBackend, "rename" | "unlink">;
  }) {
    this.#events = opts.events;
    this.#network = opts.network;
    this.store = new RecordStore<ContainerRecord>(opts.root, {
      document: "container.json",
      tmpDir: opts.tmpDir,
    });
  }

  /** A container for a record and its state document (fresh when absent), saving its state to `state.json`. */
  materialize(record: ContainerRecord, doc: ContainerStateDoc | undefined): Container {
    const id = record.Id;
    return new Container(record, new State(doc, (d) => this.store.putDoc(id, "state.json", d)));
  }

  /** The container for an ID, name or unique ID prefix; NotFoundError `No such container: x` otherwise. */
  get(ref: string): Container {
    return this.index.get(ref);
  }

  /** True when a container with that ref exists. */
  exists(ref: string): boolean {
    return this.index.find(ref) !== undefined;
  }

  /** The ID of a container ref. */
  resolveId(ref: string): string {
    return this.get(ref).id;
  }

  /** What exec needs to know of a container. */
  execTarget(ref: string): ExecTarget {
    const c = this.get(ref);
    return {
      id: c.id,
      name: c.record.Name,
      running: c.state.live,
      paused: c.state.paused,
      rootfs: this.rootfsPath(c.id),
      user: c.record.Config.User ?? "",
      groupAdd: c.record.HostConfig.GroupAdd ?? [],
      attrs: this.attrs(c),
    };
  }

  /** The container's directory under the data root. */
  dir(id: string): string {
    return this.store.dir(id);
  }

  /** The container's merged rootfs mount point. */
  rootfsPath(id: string): string {
    return join(this.store.dir(id), "merged");
  }

  /** Event attributes Docker puts on every container event: labels, image, name. */
  attrs(c: Container, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(c.record.Config.Labels ?? {}),
      image: c.record.Config.Image ?? "",
      name: c.shortName,
      ...extra,
    };
  }

  /** Publishes a container event. */
  emit(c: Container, action: string, extra?: Record<string, string>): void {
    this.#events({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: this.attrs(c, extra) },
    });
  }

  /** Publishes an event about the container `ref` names on behalf of another service (commit). */
  announce(ref: string, action: string, extra?: Record<string, string>): void {
    this.emit(this.get(ref), action, extra);
  }

  /** Publishes an event about containers in general (prune). */
  emitGlobal(action: string, attributes: Record<string, string>): void {
    this.#events({ Type: "container", Action: action, Actor: { ID: "", Attributes: attributes } });
  }

  /**
   * `DELETE /containers/{parent}/{alias}?link=1` (docker rm --link): drops the parent's link of that alias,
   * so inspect no longer lists it and the next start neither writes it to /etc/hosts nor sets its variables.
   */
  async removeLink(linkName: string): Promise<void> {
    const full = linkName.startsWith("/") ? linkName : `/${linkName}`;
    const cut = full.lastIndexOf("/");
    const parentName = full.slice(0, cut);
    const alias = full.slice(cut + 1);
    if (!parentName) {
      this.get(full); // a container that is not there is a 404 first, as dockerd looks it up first
      // dockerd's text; its status is a 500 (a plain error there), but this is the client's request: a 409.
      throw new ConflictError("Conflict, cannot remove the default link name of the container");
    }
    let c: Container;
    try {
      c = this.get(parentName);
    } catch {
      throw new NotFoundError(`No such container: ${linkName}`);
    }
    const links = c.record.HostConfig.Links ?? [];
    const kept = links.filter((l) => parseLink(l).alias !== alias);
    if (kept.length === links.length) throw new NotFoundError(`No such container: ${linkName}`);
    c.record = { ...c.record, HostConfig: { ...c.record.HostConfig, Links: kept.length ? kept : undefined } };
    await this.store.put(c.id, c.record);
    await this.#network.unlink(c.id, alias);
  }

  /** POST /containers/{id}/rename */
  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw new InvalidParameterError("Neither old nor new names may be empty");
    const name = normalizeName(newName);
    const old = c.record.Name;
    if (name === old)
      throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    this.index.reserveName(name, c.id);
    c.record = { ...c.record, Name: name };
    try {
      await this.store.put(c.id, c.record);
    } catch (e) {
      this.index.releaseName(name);
      c.record = { ...c.record, Name: old };
      throw e;
    }
    this.index.releaseName(old);
    await this.#network
      .rename(c.id, name)
      .catch((e) => log("warn", "network rename failed", { id: c.id, err: e }));
    this.emit(c, "rename", { oldName: old });
  }
}
