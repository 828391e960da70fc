/**
 * The registry side of `docker search`: dockerd asks a registry's v1 index (`/v1/search?q=&n=`) — Docker Hub's
 * for plain terms, the named registry's for `HOST[:PORT]/TERM`. Registries that speak only the v2 API (wharf's
 * own, distribution's) answer 404 there, and dockerd reports "Unexpected status code 404"; it never reads
 * `/v2/_catalog` for a search.
 */
import { SystemError } from "../errdefs/index.ts";
import { readAll, send } from "./http.ts";

/** One result as the v1 index and the Engine API give it. */
export interface IndexSearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

function failed(url: string, e: unknown): SystemError {
  return new SystemError(`Get "${url}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * Searches the v1 index at `base` (scheme and host). As dockerd, the endpoint is pinged first (`/v1/_ping`,
 * any answer will do); a registry that cannot be reached is an "invalid registry endpoint".
 */
export async function searchIndex(
  base: string,
  query: { term: string; limit: number; authorization?: string },
): Promise<IndexSearchResult[]> {
  const root = `${base.replace(/\/+$/, "")}/v1/`;
  const headers: Record<string, string> = query.authorization ? { Authorization: query.authorization } : {};
  try {
    const ping = await send({ method: "GET", url: `${root}_ping`, headers });
    ping.body.resume();
  } catch (e) {
    throw new SystemError(`invalid registry endpoint "${root}": ${failed(`${root}_ping`, e).message}`, {
      cause: e,
    });
  }
  const url = `${root}search?q=${encodeURIComponent(query.term)}&n=${query.limit}`;
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send({ method: "GET", url, headers: { ...headers, "X-Docker-Token": "true" } });
  } catch (e) {
    throw failed(url, e);
  }
  if (res.status !== 200) {
    res.body.resume();
    throw new SystemError(`Unexpected status code ${res.status}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readAll(res)).toString("utf8"));
  } catch (e) {
    throw new SystemError(`error decoding registry search results: ${(e as Error).message}`, { cause: e });
  }
  const results = (parsed as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return [];
  return results.map((r: Record<string, unknown>) => ({
    name: typeof r.name === "string" ? r.name : "",
    description: typeof r.description === "string" ? r.description : "",
    star_count: typeof r.star_count === "number" ? r.star_count : 0,
    is_official: r.is_official === true,
    is_automated: false,
  }));
}
