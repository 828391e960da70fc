// Registry credentials in ~/.wharf/config.json (or $WHARF_CONFIG/config.json), docker's config.json layout:
// `{"auths": {"<registry>": {"auth": base64("user:pass")}}}`, and the `X-Registry-Auth` header made from it.
// fs.promises, not node:fs/promises: the client's CommonJS bundle requires its imports when run.ts loads, and
// node:fs/promises brings readline and fs watchers with it (11 builtins) for a file only pull and login read.
import { promises as fsp } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AuthConfig } from "../apitypes/index.ts";

/** Docker Hub's key in the credentials file. */
export const DEFAULT_INDEX = "https://index.docker.io/v1/";

/** Where the client's config lives. */
export function configDir(): string {
  return process.env.WHARF_CONFIG || join(homedir(), ".wharf");
}

/** The client config file's contents we use. */
export interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; email?: string }>;
  [key: string]: unknown;
}

/** Reads the config file; empty when it does not exist. */
export async function loadConfig(): Promise<ConfigFile> {
  try {
    return JSON.parse(await fsp.readFile(join(configDir(), "config.json"), "utf8")) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
}

/** Writes the config file atomically, readable by its owner only (it holds passwords). */
export async function saveConfig(cfg: ConfigFile): Promise<string> {
  const dir = configDir();
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "config.json");
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, `${JSON.stringify(cfg, null, "\t")}\n`, { mode: 0o600 });
  await fsp.rename(tmp, file);
  return file;
}

/** The registry part of a reference (`localhost:5000/x` → `localhost:5000`); Docker Hub for plain names. */
export function registryOf(ref: string): string {
  const slash = ref.indexOf("/");
  if (slash < 0) return DEFAULT_INDEX;
  const first = ref.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") {
    return first === "docker.io" || first === "index.docker.io" || first === "registry-1.docker.io"
      ? DEFAULT_INDEX
      : first;
  }
  return DEFAULT_INDEX;
}

/** The credentials key for a server typed at `login`/`logout` (scheme and path dropped, Hub normalized). */
export function serverKey(server: string): string {
  if (!server) return DEFAULT_INDEX;
  const host = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (["docker.io", "index.docker.io", "registry-1.docker.io"].includes(host)) return DEFAULT_INDEX;
  return host;
}

/** Stored credentials for a registry, as the AuthConfig the API takes. */
export async function authFor(registry: string): Promise<AuthConfig & { identitytoken?: string }> {
  const cfg = await loadConfig();
  const entry =
    cfg.auths?.[registry] ?? cfg.auths?.[`https://${registry}`] ?? cfg.auths?.[`http://${registry}`];
  if (!entry) return {};
  const out: AuthConfig & { identitytoken?: string } = { serveraddress: registry };
  if (entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const i = text.indexOf(":");
    out.username = text.slice(0, i);
    out.password = text.slice(i + 1);
  }
  if (entry.identitytoken) out.identitytoken = entry.identitytoken;
  return out;
}

/** `X-Registry-Auth` for a reference: base64url (padded, as Go's URLEncoding) of the stored AuthConfig. */
export async function registryAuthHeader(ref: string): Promise<string> {
  const a = await authFor(registryOf(ref));
  return Buffer.from(JSON.stringify(a)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}
