import { expandWord } from "./shell.ts";

/** A failed step; `code` is the RUN command's exit code. */
export class BuildError extends Error {
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

/** `name[=default]` of an ARG, the default expanded. */
export function splitArg(
  word: string,
  lookup: (n: string) => string | undefined,
  esc: string,
): [string, string | undefined] {
  const eq = word.indexOf("=");
  if (eq < 0) return [word, undefined];
  return [word.slice(0, eq), expandWord(word.slice(eq + 1), lookup, esc)];
}
