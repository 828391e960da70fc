import type { Extract } from "tar-stream";

/** PAX keys whose values are raw bytes, not UTF-8 text (xattr values such as security.capability). */
export const XATTR_PREFIX = "SCHILY.xattr.";

/**
 * Decodes PAX records ("<len> <key>=<value>\n"), keeping xattr values byte-exact as latin1 strings
 * (`Buffer.from(v, "latin1")` gives the bytes back); other values are UTF-8 as the format says.
 */
export function decodePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(buf.toString("ascii", off, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > buf.length) break;
    const rec = buf.subarray(sp + 1, off + len - 1); // drop the trailing "\n"
    const eq = rec.indexOf(0x3d);
    if (eq >= 0) {
      const key = rec.toString("utf8", 0, eq);
      out[key] = rec.toString(key.startsWith(XATTR_PREFIX) ? "latin1" : "utf8", eq + 1);
    }
    off += len;
  }
  return out;
}

interface ExtractInternals {
  _decodeLongHeader?: (buf: Buffer) => void;
  _header: { type: string } | null;
  _pax: Record<string, string> | null;
  _paxGlobal: Record<string, string> | null;
}

/**
 * tar-stream decodes PAX values as UTF-8, which corrupts binary xattr values. This swaps in `decodePax` for
 * PAX headers on one extractor. It relies on tar-stream 3.x internals; if they change the patch is skipped
 * (and the xattr round-trip test fails), rather than breaking extraction.
 */
export function useBinarySafePax(ex: Extract): void {
  const inner = ex as unknown as ExtractInternals;
  const orig = inner._decodeLongHeader;
  if (typeof orig !== "function" || !("_paxGlobal" in inner)) return;
  inner._decodeLongHeader = function (this: ExtractInternals, buf: Buffer) {
    const type = this._header?.type;
    if (type === "pax-header") {
      this._pax = { ...(this._paxGlobal ?? {}), ...decodePax(buf) };
    } else if (type === "pax-global-header") {
      this._paxGlobal = decodePax(buf);
    } else {
      orig.call(this, buf);
    }
  };
}
