import { InvalidParameterError } from "../errdefs/index.ts";

/** Docker Hub's canonical domain; references without a domain belong to it. */
export const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const MAX_NAME = 255;

/** A parsed, normalised image reference: `domain/path[:tag][@digest]`. */
export interface Reference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

// The grammar of distribution/reference, written out as regular expressions.
const alnum = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = "[\\w][\\w.-]{0,127}";
const digestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const referenceRe = new RegExp(
  `^((?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*)(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const tagRe = new RegExp(`^${tagPattern}$`);
const identifierRe = /^[a-f0-9]{64}$/;

function invalid(detail?: string): InvalidParameterError {
  return new InvalidParameterError(
    detail ? `invalid reference format: ${detail}` : "invalid reference format",
  );
}

/** Splits `name` into domain and remainder as Docker does (no dot, colon or "localhost" → Docker Hub). */
function splitDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = i < 0 ? "" : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

function validateDigest(d: string): void {
  const [algo, hex] = d.split(":");
  if (algo !== "sha256") throw new InvalidParameterError(`unsupported digest algorithm: ${d}`);
  if (hex.length !== 64) throw new InvalidParameterError("invalid checksum digest length");
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidParameterError("invalid checksum digest format");
}

/**
 * Parses a user-given image name (`busybox`, `busybox:1.36`, `localhost:5000/a/b:t`, `name@sha256:…`) into
 * its normalised form, as Docker's ParseNormalizedNamed. Bad input is an InvalidParameterError.
 */
export function parseNamed(s: string): Reference {
  if (identifierRe.test(s)) {
    throw new InvalidParameterError(
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDomain(s);
  const colon = remainder.indexOf(":");
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) throw invalid(`repository name (${remote}) must be lowercase`);
  const m = referenceRe.exec(`${domain}/${remainder}`);
  if (!m) throw invalid();
  if (m[1].length > MAX_NAME) {
    throw new InvalidParameterError(`repository name must not be more than ${MAX_NAME} characters`);
  }
  if (m[3]) validateDigest(m[3]);
  const name = m[1];
  const slash = name.indexOf("/");
  const ref: Reference = { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = m[3];
  return ref;
}

/** A reference to a name or to an image ID (as Docker's ParseAnyReference). */
export type AnyReference = { kind: "named"; ref: Reference } | { kind: "id"; id: string };

/** Parses a string that names an image either by reference or by full ID (`<64 hex>` or `sha256:<64 hex>`). */
export function parseAny(s: string): AnyReference {
  if (identifierRe.test(s)) return { kind: "id", id: `sha256:${s}` };
  if (/^sha256:[a-f0-9]{64}$/.test(s)) return { kind: "id", id: s };
  return { kind: "named", ref: parseNamed(s) };
}

/** Adds `latest` when a reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: "latest" } : ref;
}

/** The same repository with tag `tag`; InvalidParameterError for a malformed tag. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!tagRe.test(tag)) throw new InvalidParameterError("invalid tag format");
  return { domain: ref.domain, path: ref.path, tag };
}

/** `docker.io/library/busybox` */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** `docker.io/library/busybox:latest`, the key references are stored under. */
export function fullString(ref: Reference): string {
  return fullName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : "") + (ref.digest ? `@${ref.digest}` : "");
}

/** The name as Docker shows it: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const p = ref.path;
  return p.startsWith(OFFICIAL_PREFIX) && !p.slice(OFFICIAL_PREFIX.length).includes("/")
    ? p.slice(OFFICIAL_PREFIX.length)
    : p;
}

/** The reference as Docker shows it: `busybox:latest`, `busybox@sha256:…`. */
export function familiarString(ref: Reference): string {
  return (
    familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : "") + (ref.digest ? `@${ref.digest}` : "")
  );
}

/** Parses a stored full reference string back (they were valid when stored). */
export function parseStored(s: string): Reference {
  return parseNamed(s);
}

/**
 * Docker's `reference.FamiliarMatch`: the glob `pattern` (Go's path.Match syntax) against the familiar
 * string, then against the familiar name alone.
 */
export function familiarMatch(pattern: string, ref: Reference): boolean {
  const re = globToRegExp(pattern);
  return re.test(familiarString(ref)) || re.test(familiarName(ref));
}

/** Go's path.Match patterns as a RegExp: `*` and `?` never match "/". */
export function globToRegExp(pattern: string): RegExp {
  let out = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      i++;
      if (i >= pattern.length) throw new InvalidParameterError("syntax error in pattern");
      out += escapeRe(pattern[i]);
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) throw new InvalidParameterError("syntax error in pattern");
      let cls = pattern.slice(i + 1, end);
      const negate = cls.startsWith("^");
      if (negate) cls = cls.slice(1);
      out += `[${negate ? "^/" : ""}${cls.replace(/[\]\\^]/g, (x) => `\\${x}`)}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return new RegExp(`${out}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
