import { InvalidParameterError } from "../errdefs/index.ts";

/** The OCI runtimes containers may ask for, from the daemon's configuration. */
export interface RuntimeChoice {
  /** Every configured runtime's name ("runc" among them). */
  names: readonly string[];
  /** The runtime of containers that name none (`--default-runtime`). */
  defaultName: string;
  /** The sandboxing runtime `--isolation=sandbox` (and `hyperv`) picks: runsc when configured. */
  sandbox?: string;
}

/** The stock runtime. */
const STOCK = "runc";

/**
 * The runtime a new container runs under, from its HostConfig's Runtime and Isolation: "" and "default"
 * keep the daemon's default, "process" a runtime that shares the host's kernel, "sandbox" and "hyperv"
 * (the word Windows users know for a container with a kernel of its own) the sandboxed runtime. Unknown
 * names and isolations are refused with dockerd's texts.
 */
export function chooseRuntime(hc: { Runtime?: string; Isolation?: string }, choice: RuntimeChoice): string {
  const asked = hc.Runtime || undefined;
  if (asked !== undefined && !choice.names.includes(asked))
    throw new InvalidParameterError(`unknown or invalid runtime name: ${asked}`);
  const iso = (hc.Isolation ?? "").toLowerCase();
  if (iso === "" || iso === "default") return asked ?? choice.defaultName;
  if (iso === "process") {
    if (asked !== undefined && asked === choice.sandbox)
      throw new InvalidParameterError(
        `Invalid isolation: "${hc.Isolation}" - runtime ${asked} runs containers in a sandbox`,
      );
    return asked ?? (choice.defaultName === choice.sandbox ? STOCK : choice.defaultName);
  }
  if (iso === "sandbox" || iso === "hyperv") {
    if (!choice.sandbox)
      throw new InvalidParameterError(
        `Invalid isolation: "${hc.Isolation}" - no sandboxed runtime is configured (install runsc)`,
      );
    if (asked !== undefined && asked !== choice.sandbox)
      throw new InvalidParameterError(
        `Invalid isolation: "${hc.Isolation}" - runtime ${asked} does not sandbox; ${choice.sandbox} does`,
      );
    return choice.sandbox;
  }
  throw new InvalidParameterError(
    `Invalid isolation: "${hc.Isolation}" - linux only supports 'default', 'process', 'sandbox' and 'hyperv'`,
  );
}
