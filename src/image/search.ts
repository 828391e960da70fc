/**
 * `GET /images/search` as dockerd answers it: filters checked first (`is-official`, `stars`, the deprecated
 * `is-automated` whose `true` matches nothing), the limit kept in [1, 100] (0 is 25), then the term split into
 * an index and a remote name by dockerd's rule (a first component with a dot, a colon or `localhost` is a
 * registry host). Names without a host go to Docker Hub's index, which wharf does not have: that is the error
 * dockerd gives when the index cannot be reached, a 500 naming the URL it would ask.
 */
import type { ImageSearchResult } from "../apitypes/index.ts";
import { type Credentials, type RegistrySettings, registryBase, searchIndex } from "../distribution/index.ts";
import { InvalidParameterError, SystemError } from "../errdefs/index.ts";

/** What a search is asked for. */
export interface SearchOptions {
  term: string;
  limit?: number;
  filters?: Record<string, string[]>;
  auth?: Credentials;
}

const FILTERS = new Set(["is-automated", "is-official", "stars"]);

/** Docker's filters.GetBoolOrDefault: only 1/true and 0/false, not both. */
function boolFilter(filters: Record<string, string[]>, key: string): boolean | undefined {
  const vs = filters[key];
  if (!vs) return undefined;
  const isTrue = vs.some((v) => v === "1" || v === "true");
  const isFalse = vs.some((v) => v === "0" || v === "false");
  if (isTrue === isFalse) throw new InvalidParameterError(`invalid filter '${key}=${vs.join(",")}'`);
  return isTrue;
}

/** The index host and the remote name, as dockerd's splitReposSearchTerm. */
export function splitSearchTerm(term: string): { index?: string; remote: string } {
  const slash = term.indexOf("/");
  if (slash < 0) return { remote: term };
  const first = term.slice(0, slash);
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return { remote: term };
  return { index: first, remote: term.slice(slash + 1) };
}

/** Searches a registry's index for `opts.term`. */
export async function searchImages(
  settings: RegistrySettings,
  opts: SearchOptions,
): Promise<ImageSearchResult[]> {
  const filters = opts.filters ?? {};
  for (const k of Object.keys(filters)) {
    if (!FILTERS.has(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
  }
  if (boolFilter(filters, "is-automated")) return [];
  const official = boolFilter(filters, "is-official");
  let minStars: number | undefined;
  for (const v of filters.stars ?? []) {
    if (!/^[+-]?\d+$/.test(v)) {
      throw new InvalidParameterError(
        `invalid filter 'stars=${v}': strconv.Atoi: parsing "${v}": invalid syntax`,
      );
    }
    minStars = Math.max(minStars ?? 0, Number(v));
  }
  const limit = opts.limit || 25;
  if (limit < 1 || limit > 100)
    throw new InvalidParameterError(`limit ${limit} is outside the range of [1, 100]`);
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(opts.term)) {
    throw new InvalidParameterError(
      `invalid repository name: repository name (${opts.term}) should not have a scheme`,
    );
  }
  const { index, remote } = splitSearchTerm(opts.term);
  if (!index || /^(index\.|registry-1\.)?docker\.io$/.test(index)) {
    const term = remote.replace(/^library\//, "");
    throw new SystemError(
      `Get "https://index.docker.io/v1/search?q=${encodeURIComponent(term)}&n=${limit}": wharf has no default registry, so Docker Hub's index is not searched: name a registry in the term, as HOST[:PORT]/${term}`,
    );
  }
  const c = opts.auth;
  const authorization = c?.username
    ? `Basic ${Buffer.from(`${c.username}:${c.password ?? ""}`).toString("base64")}`
    : undefined;
  const results = await searchIndex(registryBase(index, settings), { term: remote, limit, authorization });
  return results.filter(
    (r) =>
      (official === undefined || r.is_official === official) &&
      (minStars === undefined || r.star_count >= minStars),
  );
}
