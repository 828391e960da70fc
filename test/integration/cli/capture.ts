/**
 * A fake Engine API on a unix socket that records what a client sends, so the wharf CLI's requests can be
 * compared with the real docker CLI's for the same command line.
 */

import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One recorded request. */
export interface Captured {
  /** The raw body (a build context tar). */
  raw: Buffer;
  method: string;
  path: string;
  query: Record<string, string[]>;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

/** A running fake daemon. */
export interface FakeDaemon {
  host: string;
  dir: string;
  requests: Captured[];
  close(): Promise<void>;
}

const ID = "a".repeat(64);

/** Starts the fake daemon: answers ping/version, create, inspect and the calls a create/run makes. */
export async function startFake(): Promise<FakeDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "wharf-fake-"));
  const socket = join(dir, "fake.sock");
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = url.pathname.replace(/^\/v\d+\.\d+/, "");
      const query: Record<string, string[]> = {};
      for (const [k, v] of url.searchParams) query[k] = [...(query[k] ?? []), v];
      const text = Buffer.concat(chunks).toString();
      let body: unknown = req.headers["content-type"] === "application/x-tar" ? "<tar>" : text;
      try {
        if (body !== "<tar>") body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: keep the text.
      }
      const raw = Buffer.concat(chunks);
      requests.push({ raw, method: req.method ?? "", path, query, body, headers: req.headers });
      res.setHeader("Api-Version", "1.47");
      res.setHeader("OSType", "linux");
      res.setHeader("Content-Type", "application/json");
      if (path === "/_ping") return res.end("OK");
      if (path === "/version")
        return res.end(
          JSON.stringify({ ApiVersion: "1.47", MinAPIVersion: "1.24", Os: "linux", Version: "0.1.0" }),
        );
      if (path === "/containers/create") return res.end(JSON.stringify({ Id: ID, Warnings: [] }));
      if (/^\/containers\/[^/]+\/json$/.test(path))
        return res.end(
          JSON.stringify({ Id: ID, Config: { Tty: false, OpenStdin: false }, State: { Running: true } }),
        );
      if (/^\/containers\/[^/]+\/exec$/.test(path)) return res.end(JSON.stringify({ Id: "e".repeat(64) }));
      if (/^\/containers\/[^/]+\/update$/.test(path)) return res.end(JSON.stringify({ Warnings: [] }));
      if (path === "/networks/create") return res.end(JSON.stringify({ Id: "n".repeat(64) }));
      if (path === "/volumes/create") return res.end(JSON.stringify({ Name: "v", Driver: "local" }));
      if (path === "/build") {
        res.write(`${JSON.stringify({ stream: "Step 1/1 : FROM busybox\n" })}\n`);
        res.write(`${JSON.stringify({ aux: { ID: `sha256:${ID}` } })}\n`);
        return res.end(`${JSON.stringify({ stream: `Successfully built ${ID.slice(0, 12)}\n` })}\n`);
      }
      if (/^\/exec\/[^/]+\/start$/.test(path)) {
        res.statusCode = 200;
        return res.end();
      }
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    host: `unix://${socket}`,
    dir,
    requests,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Drops what a daemon reads the same as absent (null, "", false, 0, empty lists and maps), recursively. */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(normalize);
    return a.length ? a : undefined;
  }
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      let n = normalize(x);
      // The docker CLI collects -v binds in a Go map, so their order varies from run to run.
      if (k === "Binds" && Array.isArray(n)) n = [...n].sort();
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === "" || v === false || v === 0) return undefined;
  return v;
}
