// .dockerignore rules with docker's matching: `*`, `?`, `[...]`, `**` across directories, `!` exceptions
// (last match wins), and a pattern that matches a directory also covering everything under it.

/** One rule of a .dockerignore file. */
export interface IgnoreRule {
  exclusion: boolean;
  re: RegExp;
  /** The cleaned pattern text. */
  pattern: string;
}

function clean(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/") || ".";
}

function toRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        // `**/` matches zero or more directories; a bare `**` anything.
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += pattern[i].replace(/[.+^${}()|[\]\\*?]/g, "\\$&");
    } else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`${re}$`);
}

/** Parses .dockerignore text into rules (comments and blank lines skipped). */
export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    let exclusion = false;
    if (line.startsWith("!")) {
      exclusion = true;
      line = line.slice(1).trim();
    }
    const pattern = clean(line.replace(/^\/+/, ""));
    if (pattern === ".") continue;
    rules.push({ exclusion, re: toRegExp(pattern), pattern });
  }
  return rules;
}

/** True when `rel` (slash-separated, relative to the context) or one of its parents is excluded. */
export function isExcluded(rel: string, rules: IgnoreRule[]): boolean {
  let matched = false;
  const parents: string[] = [];
  const parts = rel.split("/");
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
  for (const r of rules) {
    // Nothing to undo for an exception, nothing to add for an exclusion already in force.
    if (r.exclusion !== matched) continue;
    let hit = r.re.test(rel);
    if (!hit) hit = parents.some((p) => r.re.test(p));
    if (hit) matched = !r.exclusion;
  }
  return matched;
}

/** True when some exception rule exists (then excluded directories must still be walked). */
export function hasExceptions(rules: IgnoreRule[]): boolean {
  return rules.some((r) => r.exclusion);
}
