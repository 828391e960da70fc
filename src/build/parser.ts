/**
 * Dockerfile parser: parser directives, comments, line continuations, heredocs, flags, JSON and shell forms.
 * It checks everything that can be checked without running a step, so a bad file fails before the first one,
 * with the line number in Docker's words (`dockerfile parse error on line N: ...`).
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import { splitWords } from "./shell.ts";

/** A here-document attached to RUN, COPY or ADD. */
export interface Heredoc {
  name: string;
  content: string;
  /** False when the delimiter was quoted: the content is taken literally. */
  expand: boolean;
}

/** One instruction, as written. */
export interface Instruction {
  /** Lower case: "run", "copy", ... */
  cmd: string;
  /** The instruction's text with continuations joined (and heredocs left out), as history shows it. */
  original: string;
  /** First line of the instruction (1-based). */
  line: number;
  /** `--name=value` flags, by name; a flag given without a value maps to "". */
  flags: Record<string, string>;
  /** Every value of each flag, for flags that may repeat (`RUN --mount`). */
  flagList?: Record<string, string[]>;
  /** The arguments: JSON elements, shell words (quotes kept), or [text] for shell-form commands. */
  args: string[];
  /** Whether the arguments were in JSON (exec) form. */
  json: boolean;
  heredocs: Heredoc[];
  /** ONBUILD's trigger. */
  sub?: Instruction;
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  directives: Record<string, string>;
  escape: string;
  instructions: Instruction[];
}

const KNOWN = new Set([
  "from",
  "run",
  "cmd",
  "label",
  "maintainer",
  "expose",
  "env",
  "add",
  "copy",
  "entrypoint",
  "volume",
  "user",
  "workdir",
  "arg",
  "onbuild",
  "stopsignal",
  "healthcheck",
  "shell",
]);

const FLAGS: Record<string, string[]> = {
  from: ["platform"],
  run: ["mount", "network", "security"],
  copy: ["from", "chown", "chmod", "link", "parents", "exclude"],
  add: ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"],
  healthcheck: ["interval", "timeout", "start-period", "start-interval", "retries"],
};

const JSON_FORMS = new Set(["run", "cmd", "entrypoint", "shell", "copy", "add", "volume"]);
const HEREDOC_FORMS = new Set(["run", "copy", "add"]);
const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.*?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);

/** A parse error with Docker's location prefix. */
export function parseError(line: number, msg: string): InvalidParameterError {
  return new InvalidParameterError(`dockerfile parse error on line ${line}: ${msg}`);
}

/** Parses a Dockerfile's text. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (key in directives) throw parseError(i + 1, `only one ${key} parser directive can be used`);
    directives[key] = m[2];
  }
  const esc = directives.escape ?? "\\";
  if (esc !== "\\" && esc !== "`")
    throw parseError(1, `invalid escape token '${esc}' does not match \` or \\`);
  const continuation = new RegExp(`${esc === "\\" ? "\\\\" : "`"}[ \\t]*$`);
  const isComment = (l: string) => /^[ \t]*#/.test(l);
  const isBlank = (l: string) => /^[ \t]*$/.test(l);

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const raw = lines[i++];
    const startLine = i;
    if (isComment(raw) || isBlank(raw)) continue;
    let line = raw.replace(/^[ \t]+/, "");
    let ended = !continuation.test(line);
    line = line.replace(continuation, "");
    while (!ended && i < lines.length) {
      const next = lines[i++];
      if (isComment(next) || isBlank(next)) continue;
      ended = !continuation.test(next);
      line += next.replace(continuation, "");
    }
    if (isBlank(line)) continue;
    const ins = parseLine(line, startLine, esc);
    if (HEREDOC_FORMS.has(ins.cmd) && !ins.json) {
      for (const h of heredocMarkers(ins.args.join(" "))) {
        let content = "";
        for (;;) {
          if (i >= lines.length) throw parseError(startLine, `unterminated heredoc ${h.name}`);
          let l = lines[i++];
          if (h.chomp) l = l.replace(/^\t+/, "");
          if (l === h.name) break;
          content += `${l}\n`;
        }
        ins.heredocs.push({ name: h.name, content, expand: h.expand });
      }
    }
    instructions.push(ins);
  }
  if (instructions.length === 0) throw new InvalidParameterError("the Dockerfile cannot be empty");
  validate(instructions);
  return { directives, escape: esc, instructions };
}

/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in a RUN/COPY/ADD line. */
function heredocMarkers(text: string): { name: string; chomp: boolean; expand: boolean }[] {
  const out: { name: string; chomp: boolean; expand: boolean }[] = [];
  for (const m of text.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g)) {
    out.push({ name: m[3], chomp: m[1] === "-", expand: m[2] === "" });
  }
  return out;
}

function parseLine(line: string, lineNo: number, esc: string): Instruction {
  const m = /^(\S+)(?:[ \t]+(.*))?$/s.exec(line.trim());
  if (!m) throw parseError(lineNo, "empty instruction");
  const cmd = m[1].toLowerCase();
  if (!KNOWN.has(cmd)) throw parseError(lineNo, `unknown instruction: ${m[1]}`);
  let rest = m[2] ?? "";
  const flags: Record<string, string> = {};
  const flagList: Record<string, string[]> = {};
  for (;;) {
    const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:[ \t]+|$)/.exec(rest);
    if (!f || cmd === "onbuild") break;
    if (!(FLAGS[cmd] ?? []).includes(f[1])) throw parseError(lineNo, `unknown flag: ${f[1]}`);
    flags[f[1]] = unquote(f[2] ?? "");
    flagList[f[1]] = [...(flagList[f[1]] ?? []), flags[f[1]]];
    rest = rest.slice(f[0].length);
  }
  rest = rest.trim();
  const ins: Instruction = {
    cmd,
    original: line.trim(),
    line: lineNo,
    flags,
    flagList,
    args: [],
    json: false,
    heredocs: [],
  };
  const json = JSON_FORMS.has(cmd) ? jsonArray(rest) : undefined;
  if (json) {
    ins.json = true;
    ins.args = json;
  } else if (cmd === "shell") {
    throw parseError(lineNo, "SHELL requires the arguments to be in JSON form");
  } else if (["run", "cmd", "entrypoint"].includes(cmd)) {
    ins.args = rest ? [rest] : [];
  } else if (["user", "workdir", "stopsignal", "maintainer"].includes(cmd)) {
    ins.args = rest ? [rest] : [];
  } else if (cmd === "onbuild") {
    if (!rest) throw parseError(lineNo, "ONBUILD requires at least one argument");
    const sub = parseLine(rest, lineNo, esc);
    if (sub.cmd === "onbuild")
      throw parseError(lineNo, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (sub.cmd === "from" || sub.cmd === "maintainer")
      throw parseError(lineNo, `${sub.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
    ins.sub = sub;
    ins.args = [rest];
  } else if (cmd === "healthcheck") {
    // The kind, then the command as written (JSON or shell form is decided when it is used).
    const h = /^(\S+)(?:[ \t]+(.*))?$/s.exec(rest);
    ins.args = h ? (h[2] ? [h[1], h[2].trim()] : [h[1]]) : [];
  } else if (cmd === "env" || cmd === "label") {
    ins.args = nameValues(rest, cmd, lineNo, esc);
  } else {
    ins.args = splitWords(rest, esc);
  }
  checkArity(ins, lineNo);
  return ins;
}

function unquote(v: string): string {
  return /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
}

function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {
    // Not JSON: Docker then takes it as the shell form.
  }
  return undefined;
}

/** ENV/LABEL: `key value` (the old form, one pair) or `k=v k2="v 2"`; returns [k, v, k2, v2, ...] raw. */
function nameValues(rest: string, cmd: string, lineNo: number, esc: string): string[] {
  const words = splitWords(rest, esc);
  const upper = cmd.toUpperCase();
  if (words.length === 0) throw parseError(lineNo, `${upper} requires at least one argument`);
  if (!words[0].includes("=")) {
    const m = /^(\S+)[ \t]+(.*)$/s.exec(rest);
    if (!m?.[2].trim()) throw parseError(lineNo, `${upper} must have two arguments`);
    // The old form's value is the rest of the line, taken literally apart from expansion.
    return [m[1], m[2].trim()];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0)
      throw parseError(lineNo, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

function checkArity(ins: Instruction, lineNo: number): void {
  const n = ins.args.length;
  const name = ins.cmd.toUpperCase();
  const fail = (msg: string) => {
    throw parseError(lineNo, msg);
  };
  switch (ins.cmd) {
    case "from":
      if (n !== 1 && n !== 3) fail("FROM requires either one or three arguments");
      if (n === 3 && ins.args[1].toLowerCase() !== "as") fail("FROM requires either one or three arguments");
      break;
    case "copy":
    case "add":
      if (n < 2) fail(`${name} requires at least two arguments, but only ${n} provided`);
      break;
    case "user":
    case "workdir":
    case "stopsignal":
    case "maintainer":
      if (n !== 1) fail(`${name} requires exactly one argument`);
      break;
    case "run":
    case "expose":
    case "volume":
    case "arg":
    case "healthcheck":
    case "shell":
      if (n === 0) fail(`${name} requires at least one argument`);
      break;
    case "entrypoint":
    case "cmd":
      break;
  }
}

function validate(instructions: Instruction[]): void {
  let sawFrom = false;
  for (const ins of instructions) {
    if (ins.cmd === "from") sawFrom = true;
    else if (!sawFrom && ins.cmd !== "arg") throw parseError(ins.line, "no build stage in current context");
    if (ins.cmd === "healthcheck") {
      const kind = ins.args[0].toUpperCase();
      if (kind === "NONE") {
        if (ins.args.length > 1) throw parseError(ins.line, "HEALTHCHECK NONE takes no arguments");
        if (Object.keys(ins.flags).length) throw parseError(ins.line, "HEALTHCHECK NONE takes no options");
      } else if (kind !== "CMD") {
        throw parseError(ins.line, `Unknown type "${ins.args[0]}" in HEALTHCHECK (try CMD)`);
      } else if (ins.args.length < 2) {
        throw parseError(ins.line, "Missing command after HEALTHCHECK CMD");
      }
    }
  }
}
