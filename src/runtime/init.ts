import { accessSync, constants } from "node:fs";

/**
 * Statically linked inits Debian ships, best first. It must be static: it runs inside the container's
 * root, which need not have a libc. tini is what Docker ships as docker-init; catatonit is podman's.
 */
const INIT_CANDIDATES: readonly string[] = [
  "/usr/bin/docker-init",
  "/usr/bin/tini-static",
  "/usr/bin/catatonit",
  "/usr/libexec/podman/catatonit",
];

/** Host path of an init for `--init` (SpecInput.init): `preferred` when executable, else the first found. */
export function findInitBinary(preferred?: string): string | undefined {
  for (const p of preferred ? [preferred, ...INIT_CANDIDATES] : INIT_CANDIDATES) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}
