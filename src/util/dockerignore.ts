/**
 * `.dockerignore` as Docker reads it, one implementation for the CLI, compose and the builder. Patterns are
 * Go `filepath.Match` globs over "/"-separated paths relative to the context root, plus `**` for any number
 * of directories; a pattern that matches a directory also matches everything below it; `!` re-includes;
 * the last matching line wins.
 */

/** A malformed pattern (unclosed `[`, a bare `!`); callers map it to their own error type. */
export class IgnorePatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IgnorePatternError";
  }
}

/** A compiled .dockerignore. */
export interface IgnoreMatcher {
  /** True when `rel` (a context path, "/"-separated) is left out of the context. */
  ignores(rel: string): boolean;
  /** The patterns, cleaned, as Docker reads them. */
  patterns: string[];
  /** Some `!` rule exists: an excluded directory may still hold files to send, so it must be walked. */
  hasExceptions: boolean;
}

interface Rule {
  exclusion: boolean;
  re: RegExp;
}

/** Go's `path.Clean`: drops empty and `.` segments, folds `..`, keeps a leading "/". */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (seg === ".." && rooted) continue;
    else out.push(seg);
  }
  const s = out.join("/");
  return rooted ? `/${s}` : s || ".";
}

/** Reads .dockerignore text into its cleaned patterns (comments and blank lines dropped), as Docker does. */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const raw = i === 0 ? line.replace(/^\uFEFF/, "") : line;
    // A comment is a "#" in the first column, before any trimming.
    if (raw.startsWith("#")) continue;
    let p = raw.trim();
    if (!p) continue;
    const neg = p.startsWith("!");
    if (neg) p = p.slice(1).trim();
    if (p) {
      p = cleanPath(p);
      // Relative to the context root: a leading "/" means the same as none.
      if (p.length > 1 && p.startsWith("/")) p = p.slice(1);
    }
    out.push(neg ? `!${p}` : p);
  }
  return out;
}

/** Compiles patterns (as `readIgnorePatterns` returns them); throws IgnorePatternError on a bad one. */
export function ignoreMatcher(patterns: string[]): IgnoreMatcher {
  const rules: Rule[] = patterns.map((p) => {
    const exclusion = p.startsWith("!");
    const pattern = exclusion ? p.slice(1) : p;
    if (exclusion && pattern === "") throw new IgnorePatternError('illegal exclusion pattern: "!"');
    return { exclusion, re: globToRegExp(pattern) };
  });
  return {
    patterns,
    hasExceptions: rules.some((r) => r.exclusion),
    ignores(rel: string): boolean {
      const file = cleanPath(rel).replace(/^\/+/, "");
      const parts = file.split("/");
      let matched = false;
      for (const r of rules) {
        // A later rule can only flip the result the other way.
        if (r.exclusion !== matched) continue;
        let m = r.re.test(file);
        for (let i = 1; !m && i < parts.length; i++) m = r.re.test(parts.slice(0, i).join("/"));
        if (m) matched = !r.exclusion;
      }
      return matched;
    },
  };
}

/** Reads and compiles .dockerignore text in one step. */
export function parseDockerignore(text: string): IgnoreMatcher {
  return ignoreMatcher(readIgnorePatterns(text));
}

/**
 * Go's filepath.Match syntax (`*`, `?`, `[...]` with `^` negation, `\` escapes) plus Docker's `**`
 * (at the end, with or without a trailing slash, it matches anything; elsewhere zero or more directories),
 * anchored at both ends.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  const p = pattern;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? "";
    if (c === "*") {
      if (p[i + 1] !== "*") {
        re += "[^/]*";
        continue;
      }
      i++;
      if (p[i + 1] === "/") i++;
      re += i + 1 >= p.length ? ".*" : "(?:.*/)?";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const [cls, end] = charClass(p, i);
      re += cls;
      i = end;
    } else if (c === "\\" && i + 1 < p.length) {
      re += escapeRe(p[++i] ?? "");
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

/** Translates the class starting at `p[start] === "["`; returns it and the index of its `]`. */
function charClass(p: string, start: number): [string, number] {
  let i = start + 1;
  let out = "[";
  if (p[i] === "^") {
    out += "^";
    i++;
  }
  let first = true;
  for (; i < p.length; i++) {
    const c = p[i] ?? "";
    if (c === "]" && !first) return [`${out}]`, i];
    first = false;
    if (c === "\\" && i + 1 < p.length) out += `\\${p[++i]}`;
    else if (c === "]" || c === "[" || c === "\\") out += `\\${c}`;
    else out += c;
  }
  throw new IgnorePatternError(`syntax error in pattern: ${p}`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
