/**
 * Architecture names in OCI's (and Go's GOARCH) spelling, the one Docker shows and image configs carry:
 * `amd64`, `arm64`, `386`, ... Node and users spell some of them otherwise.
 */

/** Node's process.arch → OCI. Node reports linux's ppc64le as `ppc64`. */
const FROM_NODE: Record<string, string> = { x64: "amd64", ia32: "386", ppc64: "ppc64le" };

/** What users type for an architecture besides the OCI name (uname's and Node's spellings) → OCI. */
const ALIASES: Record<string, string> = { x86_64: "amd64", x64: "amd64", aarch64: "arm64", ia32: "386" };

/** The OCI name of a Node architecture (process.arch unless given): `x64` → `amd64`. */
export function ociArch(nodeArch: string = process.arch): string {
  return FROM_NODE[nodeArch] ?? nodeArch;
}

/** The OCI name of an architecture a user gave (`x86_64` → `amd64`, `aarch64` → `arm64`); others as given. */
export function normalizeArch(name: string): string {
  return ALIASES[name] ?? name;
}
