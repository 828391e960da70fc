import { InvalidParameterError } from "../errdefs/index.ts";
import type { Credentials } from "./client.ts";

/**
 * Decodes `X-Registry-Auth`: base64url JSON (standard base64 and missing padding accepted too, since clients
 * differ). Empty or `{}` means anonymous.
 */
export function decodeAuthHeader(h: string | undefined): Credentials | undefined {
  if (!h?.trim()) return undefined;
  const b64 = h.trim().replace(/-/g, "+").replace(/_/g, "/");
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(Buffer.from(b64, "base64").toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new InvalidParameterError("invalid X-Registry-Auth header: not base64url-encoded JSON");
  }
  if (!j || typeof j !== "object") return undefined;
  const s = (k: string) => (typeof j[k] === "string" && j[k] ? (j[k] as string) : undefined);
  const c: Credentials = {
    username: s("username"),
    password: s("password"),
    identitytoken: s("identitytoken"),
    registrytoken: s("registrytoken"),
  };
  return c.username || c.identitytoken || c.registrytoken ? c : undefined;
}
