import { readFile } from "node:fs/promises";
import { LoadError } from "./errors.ts";
import { InterpolationError, type Lookup, substitute } from "./interpolate.ts";

/** Variables read from an env file, in file order; undefined for a `VAR` line without `=` (unset). */
export type EnvMap = Map<string, string | undefined>;

const DOUBLE_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', $: "$$" };

/**
 * Parses the Compose env-file format: `VAR=VAL`, optional `export `, `#` comments (inline only after a space
 * when unquoted), single quotes literal, double quotes with `\n \r \t \\ \"` escapes, multi-line quoted
 * values, interpolation of unquoted and double-quoted values from earlier lines and then `lookup`.
 */
export function parseEnvFile(
  text: string,
  opts: { lookup?: Lookup; file?: string; raw?: boolean; onWarning?: (m: string) => void } = {},
): EnvMap {
  const env: EnvMap = new Map();
  const lookup: Lookup = (name) => (env.has(name) ? env.get(name) : opts.lookup?.(name));
  const fail = (line: number, msg: string) => new LoadError(`line ${line}: ${msg}`, { file: opts.file });
  const src = text.replace(/\r\n?/g, "\n");
  let i = 0;
  let line = 1;
  const expand = (v: string, at: number) => {
    try {
      return substitute(v, { lookup, onWarning: opts.onWarning });
    } catch (err) {
      if (err instanceof InterpolationError) throw fail(at, err.message);
      throw err;
    }
  };
  while (i < src.length) {
    let eol = src.indexOf("\n", i);
    if (eol < 0) eol = src.length;
    const startLine = line;
    let l = src.slice(i, eol).trimStart();
    if (l === "" || l.startsWith("#")) {
      i = eol + 1;
      line++;
      continue;
    }
    if (/^export\s/.test(l)) l = l.replace(/^export\s+/, "");
    const m = /^([^=\s#]+)\s*(=)?/.exec(l);
    if (!m) throw fail(startLine, `unexpected character in variable name: ${JSON.stringify(l)}`);
    const key = m[1];
    if (!m[2]) {
      if (l.slice(m[0].length).trim() !== "" && !l.slice(m[0].length).trim().startsWith("#")) {
        throw fail(startLine, `unexpected character in variable name ${JSON.stringify(key)}`);
      }
      env.set(key, undefined);
      i = eol + 1;
      line++;
      continue;
    }
    // Position of the value in src (it may run over several lines when quoted).
    let p = i + (src.slice(i, eol).length - l.length) + m[0].length;
    while (src[p] === " " || src[p] === "\t") p++;
    const q = src[p];
    if (opts.raw) {
      env.set(key, src.slice(p, eol));
    } else if (q === "'" || q === '"') {
      let j = p + 1;
      let val = "";
      for (; j < src.length && src[j] !== q; j++) {
        if (src[j] === "\\" && j + 1 < src.length) {
          const e = src[j + 1];
          if (q === "'") {
            if (e === "'") {
              val += "'";
              j++;
              continue;
            }
          } else if (e in DOUBLE_ESCAPES) {
            val += DOUBLE_ESCAPES[e];
            j++;
            continue;
          }
        }
        if (src[j] === "\n") line++;
        val += src[j];
      }
      if (j >= src.length) throw fail(startLine, `unterminated quoted value for ${key}`);
      env.set(key, q === '"' ? expand(val, startLine) : val);
      eol = src.indexOf("\n", j);
      if (eol < 0) eol = src.length;
    } else {
      let val = src.slice(p, eol);
      const hash = val.search(/\s#/);
      if (hash >= 0) val = val.slice(0, hash);
      env.set(key, expand(val.trimEnd(), startLine));
    }
    i = eol + 1;
    line++;
  }
  return env;
}

/** Reads and parses an env file; a missing file is an error naming it, as in docker compose. */
export async function readEnvFile(
  path: string,
  opts: { lookup?: Lookup; raw?: boolean; onWarning?: (m: string) => void } = {},
): Promise<EnvMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new LoadError(`env file ${path} not found: stat ${path}: no such file or directory`);
    if (code === "EISDIR") throw new LoadError(`env file ${path} is a directory`);
    throw err;
  }
  return parseEnvFile(text, { ...opts, file: path });
}
