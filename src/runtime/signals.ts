import { InvalidParameterError } from "../errdefs/index.ts";

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

/** Signal number from a number, "9", "KILL", "SIGKILL" or "SIGRTMIN+3"; throws InvalidParameter otherwise. */
export function normalizeSignal(signal: number | string): number {
  if (typeof signal === "number") {
    if (Number.isInteger(signal) && signal > 0 && signal <= 64) return signal;
  } else {
    const s = signal.trim().toUpperCase();
    if (/^\d+$/.test(s)) return normalizeSignal(Number(s));
    const name = s.startsWith("SIG") ? s.slice(3) : s;
    const n = SIGNALS[name];
    if (n) return n;
    const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
    if (rt) {
      const off = Number(rt[1] ?? 0);
      const v = name.startsWith("RTMIN") ? 34 + off : 64 - off;
      if (v >= 34 && v <= 64) return v;
    }
  }
  throw new InvalidParameterError(`Invalid signal: ${signal}`);
}
