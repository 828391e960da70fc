// Docker's formatter contexts for `ps` and `images`: the fields `--format` templates see.

import type { ContainerSummary, ImageSummary, Port } from "../apitypes/index.ts";
import { humanDuration } from "../util/index.ts";
import { contextJSON } from "./format/index.ts";
import { ellipsis, goTimeString, humanSize, shortId } from "./units.ts";

/** Header text of each `ps` field, for `table` formats. */
export const PS_HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Names: "NAMES",
  Labels: "LABELS",
  Label: "LABEL",
  LocalVolumes: "LOCAL VOLUMES",
  Mounts: "MOUNTS",
  Networks: "NETWORKS",
  Platform: "PLATFORM",
};

/** `ps`'s default table. */
export const PS_TABLE =
  "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

function sortedLabels(labels: Record<string, string> | undefined | null): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels?.[k]}`)
    .join(",");
}

/** Go's strconv.Quote for what commands contain. */
function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u00([0-9a-f]{2})/g, "\\x$1")
    .replace(/\\u007f/g, "\\x7f");
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function joinHostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function portGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf("/");
  const ip = slash >= 0 ? key.slice(0, slash) : "";
  const proto = slash >= 0 ? key.slice(slash + 1) : key;
  const range = first === last ? `${first}` : `${first}-${last}`;
  return ip ? `${ip}:${range}->${range}/${proto}` : `${range}/${proto}`;
}

/**
 * docker's DisplayablePorts: ports sorted by private port, IP, public port and type; consecutive
 * unpublished (or same-number published) ports grouped into ranges; other mappings listed last.
 */
export function displayPorts(ports: Port[] | null | undefined): string {
  if (!ports || ports.length === 0) return "";
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      byteCompare(a.IP ?? "", b.IP ?? "") ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      byteCompare(a.Type, b.Type),
  );
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const mappings: string[] = [];
  for (const p of sorted) {
    let key: string = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        mappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    } else if (p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
    } else {
      result.push(portGroup(key, g.first, g.last));
      groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
    }
  }
  for (const [key, g] of groups) result.push(portGroup(key, g.first, g.last));
  return [...result, ...mappings].join(", ");
}

/** The `.Image` column: familiar name with tag; image IDs shortened unless `--no-trunc`. */
function displayImage(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return "<no image>";
  if (!trunc) return c.Image;
  if (shortId(c.ImageID ?? "") === shortId(c.Image)) return shortId(c.Image);
  // Drop the digest of `name@sha256:...` and `docker.io/library/` as reference.FamiliarString does.
  let img = c.Image.replace(/@sha256:[0-9a-f]+$/, "");
  img = img.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
  return img;
}

/** One `ps` row as docker's template fields (methods, so `.Label "k"` takes an argument). */
export class ContainerContext {
  readonly #c: ContainerSummary;
  readonly #trunc: boolean;
  readonly #now: number;

  constructor(c: ContainerSummary, opts: { trunc: boolean; now?: number }) {
    this.#c = c;
    this.#trunc = opts.trunc;
    this.#now = opts.now ?? Date.now();
  }

  ID(): string {
    return this.#trunc ? shortId(this.#c.Id) : this.#c.Id;
  }
  Names(): string {
    const names = (this.#c.Names ?? [])
      .map((n) => n.replace(/^\//, ""))
      // Legacy link names (`other/alias`) only show with --no-trunc.
      .filter((n) => !this.#trunc || !n.includes("/"));
    return names.join(",");
  }
  Image(): string {
    return displayImage(this.#c, this.#trunc);
  }
  Command(): string {
    const cmd = this.#c.Command ?? "";
    return goQuote(this.#trunc ? ellipsis(cmd, 20) : cmd);
  }
  CreatedAt(): string {
    return goTimeString(new Date((this.#c.Created ?? 0) * 1000));
  }
  RunningFor(): string {
    return `${humanDuration(this.#now - (this.#c.Created ?? 0) * 1000)} ago`;
  }
  Ports(): string {
    return displayPorts(this.#c.Ports);
  }
  State(): string {
    return this.#c.State ?? "";
  }
  Status(): string {
    return this.#c.Status ?? "";
  }
  Size(): string {
    const srw = humanSize(this.#c.SizeRw ?? 0);
    if ((this.#c.SizeRootFs ?? 0) > 0) return `${srw} (virtual ${humanSize(this.#c.SizeRootFs ?? 0)})`;
    return srw;
  }
  Labels(): string {
    return sortedLabels(this.#c.Labels);
  }
  Label(name: unknown): string {
    return this.#c.Labels?.[String(name)] ?? "";
  }
  Mounts(): string {
    return (this.#c.Mounts ?? [])
      .map((m) => {
        const name = m.Name || m.Source || "";
        return this.#trunc ? ellipsis(name, 15) : name;
      })
      .join(",");
  }
  LocalVolumes(): string {
    return String(
      (this.#c.Mounts ?? []).filter((m) => m.Type === "volume" && (m.Driver ?? "local") === "local").length,
    );
  }
  Networks(): string {
    return Object.keys(this.#c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(",");
  }
  /** What `{{json .}}` prints: every field, keys sorted as Go's map encoding does. */
  toJSON(): Record<string, string | null> {
    return {
      Command: this.Command(),
      CreatedAt: this.CreatedAt(),
      ID: this.ID(),
      Image: this.Image(),
      Labels: this.Labels(),
      LocalVolumes: this.LocalVolumes(),
      Mounts: this.Mounts(),
      Names: this.Names(),
      Networks: this.Networks(),
      Platform: null,
      Ports: this.Ports(),
      RunningFor: this.RunningFor(),
      Size: this.Size(),
      State: this.State(),
      Status: this.Status(),
    };
  }
}

/** Header text of each `images` field. */
export const IMAGE_HEADERS: Record<string, string> = {
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  Containers: "CONTAINERS",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
  VirtualSize: "VIRTUAL SIZE",
};

/** One `images` row (an image under one repository:tag). */
export class ImageContext {
  readonly #i: ImageSummary;
  readonly #trunc: boolean;
  readonly #repo: string;
  readonly #tag: string;
  readonly #digest: string;
  readonly #now: number;

  constructor(
    i: ImageSummary,
    row: { repo: string; tag: string; digest: string },
    opts: { trunc: boolean; now?: number },
  ) {
    this.#i = i;
    this.#repo = row.repo;
    this.#tag = row.tag;
    this.#digest = row.digest;
    this.#trunc = opts.trunc;
    this.#now = opts.now ?? Date.now();
  }

  ID(): string {
    return this.#trunc ? shortId(this.#i.Id) : this.#i.Id;
  }
  Repository(): string {
    return this.#repo;
  }
  Tag(): string {
    return this.#tag;
  }
  Digest(): string {
    return this.#digest;
  }
  CreatedSince(): string {
    if (!this.#i.Created) return "N/A";
    return `${humanDuration(this.#now - this.#i.Created * 1000)} ago`;
  }
  CreatedAt(): string {
    return goTimeString(new Date(this.#i.Created * 1000));
  }
  Size(): string {
    return humanSize(this.#i.Size);
  }
  VirtualSize(): string {
    return humanSize(this.#i.Size, 4);
  }
  Containers(): string {
    return this.#i.Containers === -1 ? "N/A" : String(this.#i.Containers);
  }
  SharedSize(): string {
    return this.#i.SharedSize === -1 ? "N/A" : humanSize(this.#i.SharedSize);
  }
  UniqueSize(): string {
    return this.#i.SharedSize === -1 ? "N/A" : humanSize(this.#i.Size - this.#i.SharedSize);
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

/** Splits `repo:tag` / `repo@digest` (a registry port is not a tag). */
export function splitRef(ref: string): { repo: string; tag: string; digest: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { repo: familiar(ref.slice(0, at)), tag: "<none>", digest: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/"))
    return { repo: familiar(ref.slice(0, colon)), tag: ref.slice(colon + 1), digest: "<none>" };
  return { repo: familiar(ref), tag: "latest", digest: "<none>" };
}

function familiar(repo: string): string {
  return repo.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
}

/** Rows of `images`: one per repo:tag, or a `<none>` row for untagged images. */
export function imageRows(
  images: ImageSummary[],
  opts: { trunc: boolean; digests: boolean },
): ImageContext[] {
  const rows: ImageContext[] = [];
  for (const img of images) {
    const tags = (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    const digests = (img.RepoDigests ?? []).filter((d) => d !== "<none>@<none>");
    const digestOf = (repo: string): string => {
      const d = digests.map(splitRef).find((x) => x.repo === repo);
      return d?.digest ?? "<none>";
    };
    if (tags.length === 0) {
      const d = digests[0] ? splitRef(digests[0]) : { repo: "<none>", digest: "<none>" };
      rows.push(
        new ImageContext(
          img,
          { repo: d.repo, tag: "<none>", digest: opts.digests ? d.digest : "<none>" },
          opts,
        ),
      );
      continue;
    }
    for (const t of tags) {
      const r = splitRef(t);
      rows.push(
        new ImageContext(
          img,
          { repo: r.repo, tag: r.tag, digest: opts.digests ? digestOf(r.repo) : "<none>" },
          opts,
        ),
      );
    }
  }
  return rows;
}
