/**
 * The build's platform: wharf builds only for the host's, and BuildKit's predefined platform ARGs
 * (BUILDPLATFORM, TARGETARCH, ...) name it.
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import { ociArch } from "../util/index.ts";

/** Refuses a `--platform` other than the host's. */
export function checkPlatform(p: string | undefined): void {
  if (!p) return;
  const [os, a] = p.toLowerCase().split("/");
  if (os !== "linux") throw new InvalidParameterError(`"${p}": operating system is not supported`);
  const host = ociArch();
  if (a && a !== host && !(a === "x86_64" && host === "amd64"))
    throw new InvalidParameterError(
      `image with reference for platform ${p} cannot be built on this ${host} host`,
    );
}

/**
 * BuildKit's automatic platform ARGs: usable in FROM lines as they are, and inside a stage once it declares
 * them (`ARG TARGETARCH`) as any global ARG. The target is the build's platform, which checkPlatform allowed.
 */
export function platformArgs(platform: string | undefined): Map<string, string> {
  const build = { os: "linux", arch: ociArch(), variant: "" };
  const [os, arch, variant] = (platform || `${build.os}/${build.arch}`).toLowerCase().split("/");
  const target = { os, arch: arch === "x86_64" ? "amd64" : (arch ?? build.arch), variant: variant ?? "" };
  const fmt = (p: { os: string; arch: string; variant: string }) =>
    `${p.os}/${p.arch}${p.variant ? `/${p.variant}` : ""}`;
  return new Map([
    ["BUILDPLATFORM", fmt(build)],
    ["BUILDOS", build.os],
    ["BUILDARCH", build.arch],
    ["BUILDVARIANT", build.variant],
    ["TARGETPLATFORM", fmt(target)],
    ["TARGETOS", target.os],
    ["TARGETARCH", target.arch],
    ["TARGETVARIANT", target.variant],
  ]);
}
