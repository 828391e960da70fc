/**
 * `.dockerignore`: Docker's pattern matcher. Patterns are Go `filepath.Match` globs over slash-separated paths
 * relative to the context root, plus `**` for any number of directories; a pattern that matches a directory
 * also matches everything below it; `!` re-includes; the last matching line wins.
 */
import { posix } from "node:path";
import { InvalidParameterError } from "../errdefs/index.ts";

interface Rule {
  exclusion: boolean;
  re: RegExp;
  pattern: string;
}

/** A compiled .dockerignore. */
export interface IgnoreMatcher {
  /** True when `rel` (a context path, "/"-separated) is left out of the context. */
  ignores(rel: string): boolean;
  /** The patterns, cleaned, as Docker reads them. */
  patterns: string[];
}

/** Reads .dockerignore text into its cleaned patterns (comments and blank lines dropped). */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith("#")) continue;
    let p = raw.trim();
    if (!p) continue;
    let neg = false;
    if (p.startsWith("!")) {
      neg = true;
      p = p.slice(1).trim();
    }
    if (p) {
      p = posix.normalize(p);
      // Patterns are relative to the context root: a leading "/" means the same thing as none.
      p = p.replace(/^\/+/, "").replace(/\/+$/, "") || ".";
    }
    out.push(neg ? `!${p}` : p);
  }
  return out;
}

/** Compiles patterns (as `readIgnorePatterns` returns them). */
export function ignoreMatcher(patterns: string[]): IgnoreMatcher {
  const rules: Rule[] = patterns.map((p) => {
    const exclusion = p.startsWith("!");
    const pattern = exclusion ? p.slice(1) : p;
    if (exclusion && pattern === "") throw new InvalidParameterError('illegal exclusion pattern: "!"');
    return { exclusion, pattern, re: globToRegExp(pattern) };
  });
  return {
    patterns,
    ignores(rel: string): boolean {
      const file = posix.normalize(rel).replace(/^\/+/, "");
      const parents = posix.dirname(file) === "." ? [] : posix.dirname(file).split("/");
      let matched = false;
      for (const r of rules) {
        // A later rule can only flip the result the other way.
        if (r.exclusion !== matched) continue;
        let m = r.re.test(file);
        for (let i = 0; !m && i < parents.length; i++) m = r.re.test(parents.slice(0, i + 1).join("/"));
        if (m) matched = !r.exclusion;
      }
      return matched;
    },
  };
}

/** Go's filepath.Match syntax (`*`, `?`, `[...]`, `\` escapes) plus `**`, anchored at both ends. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  const p = pattern;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        // "**/" at any place matches zero or more directories; a trailing "**" anything at all.
        if (p[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw new InvalidParameterError(`syntax error in pattern: ${pattern}`);
      let cls = p.slice(i + 1, end);
      if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < p.length) {
      re += escapeRe(p[++i]);
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
