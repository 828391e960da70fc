import { InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import type { OciDescriptor, OciPlatform } from "../oci/index.ts";
import { normalizeArch, ociArch } from "../util/index.ts";

/** This host's platform in OCI words. */
export function hostPlatform(): OciPlatform {
  const architecture = ociArch();
  return architecture === "arm64"
    ? { os: "linux", architecture, variant: "v8" }
    : { os: "linux", architecture };
}

/** Parses `os[/arch[/variant]]` (the `platform` query parameter); empty means this host. */
export function parsePlatform(s: string | undefined): OciPlatform {
  if (!s) return hostPlatform();
  const [os, arch, variant] = s.toLowerCase().split("/");
  if (!os) throw new InvalidParameterError(`invalid platform: ${s}`);
  const p: OciPlatform = {
    os,
    architecture: arch ? normalizeArch(arch) : hostPlatform().architecture,
  };
  if (variant) p.variant = variant;
  return p;
}

/** `linux/amd64`, `linux/arm/v7`. */
export function formatPlatform(p: OciPlatform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Picks the entry of an index for `want` (an arm64 entry without variant counts as v8), as containerd does. */
export function selectPlatform(entries: OciDescriptor[], want: OciPlatform): OciDescriptor {
  const norm = (p: OciPlatform) => ({
    os: p.os,
    architecture: p.architecture,
    variant: p.variant ?? (p.architecture === "arm64" ? "v8" : undefined),
  });
  const w = norm(want);
  const candidates = entries.filter((e) => {
    if (!e.platform) return false;
    if (e.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") return false;
    const p = norm(e.platform);
    return (
      p.os === w.os &&
      p.architecture === w.architecture &&
      (!w.variant || !p.variant || p.variant === w.variant)
    );
  });
  // An exact variant beats a missing one.
  candidates.sort(
    (a, b) =>
      Number(norm(b.platform!).variant === w.variant) - Number(norm(a.platform!).variant === w.variant),
  );
  if (!candidates.length) {
    throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  }
  return candidates[0];
}
