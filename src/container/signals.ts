import { normalizeSignal } from "../runtime/index.ts";

/** A signal by name (`SIGTERM`, `TERM`) or number, as Docker parses it; -1 when invalid. */
export function signalNumber(sig: string | number): number {
  try {
    return normalizeSignal(sig);
  } catch {
    return -1;
  }
}
