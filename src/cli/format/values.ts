// How Go's fmt prints the values templates see. Data comes from JSON, so Go's types are guessed:
// integral numbers print as ints, objects whose keys are all exported Go names print as structs,
// everything else as maps.

/** A template method: a function on a formatter context, called with the action's arguments. */
export type Method = (...args: unknown[]) => unknown;

/** Names of fields whose JSON objects are Go maps even when their keys look like Go field names. */
const MAP_FIELDS = new Set([
  "Labels",
  "Networks",
  "Ports",
  "Options",
  "Data",
  "ExposedPorts",
  "Volumes",
  "Sysctls",
  "Tmpfs",
  "StorageOpt",
  "DriverOpts",
  "Attributes",
  "Annotations",
  "IndexConfigs",
  "Runtimes",
  "PortBindings",
  "EndpointsConfig",
]);

/** Fields that are Go slices: a JSON null there prints as `[]`, as a nil slice does. */
const SLICE_FIELDS = new Set([
  "Cmd",
  "Entrypoint",
  "Env",
  "Binds",
  "Links",
  "ExecIDs",
  "Aliases",
  "OnBuild",
  "Shell",
  "CapAdd",
  "CapDrop",
  "Dns",
  "DnsOptions",
  "DnsSearch",
  "ExtraHosts",
  "GroupAdd",
  "SecurityOpt",
  "VolumesFrom",
  "Args",
  "Devices",
  "Ulimits",
  "DNSNames",
  "RepoTags",
  "RepoDigests",
  "Layers",
  "Warnings",
  "Mounts",
  "MaskedPaths",
  "ReadonlyPaths",
  "DeviceCgroupRules",
  "DeviceRequests",
  "SecondaryIPAddresses",
  "SecondaryIPv6Addresses",
  "Processes",
  "Titles",
]);

/** How Go prints a nil found under field `key`: `[]` for slices, `map[]` for maps, else `<nil>`. */
export function nilString(key: string | undefined): string {
  if (key && SLICE_FIELDS.has(key)) return "[]";
  if (key && MAP_FIELDS.has(key)) return "map[]";
  return "<nil>";
}

/** Marks plain objects known (by the field they came from) to be maps. */
export const mapObjects = new WeakSet<object>();

/** Records that `v` was read from field `name`, so maps print as `map[...]`. */
export function noteField(name: string, v: unknown): void {
  if (MAP_FIELDS.has(name) && isPlainObject(v)) mapObjects.add(v);
}

/** True for objects parsed from JSON (not arrays, not formatter contexts). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether a plain object should print as a Go map rather than a struct. */
export function isMapLike(o: Record<string, unknown>): boolean {
  if (mapObjects.has(o)) return true;
  const keys = Object.keys(o);
  if (keys.length === 0) return true;
  return !keys.every((k) => /^[A-Z][A-Za-z0-9]*$/.test(k));
}

/** Go's %v for a float64: shortest repr, exponent when exp < -4 or >= 21. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  let s = exp < -4 || exp >= 21 ? n.toExponential() : String(n);
  if (s.includes("e")) {
    // Go writes at least two exponent digits: 1e-07.
    s = s.replace(/e([+-])(\d)$/, "e$10$2");
  }
  return s;
}

/**
 * Go's fmt %v of a value; `top` marks a value printed directly by an action, `key` names the field it
 * came from (so a null slice prints as `[]`).
 */
export function goString(v: unknown, top = false, key?: string): string {
  if (v === undefined) return top ? "<no value>" : "<nil>";
  if (v === null) return nilString(key);
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return formatFloat(v);
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
    case "function":
      return goString((v as Method)(), top);
  }
  if (Array.isArray(v)) return `[${v.map((x) => goString(x)).join(" ")}]`;
  if (v instanceof Date) return v.toISOString();
  if (isPlainObject(v)) {
    if (isMapLike(v)) {
      const keys = Object.keys(v).sort();
      // A map's values share one Go type: nils in a map of slices are empty slices.
      const ofSlices = Object.values(v).some((x) => Array.isArray(x));
      const nil = ofSlices ? "[]" : "<nil>";
      return `map[${keys.map((k) => `${k}:${v[k] === null ? nil : goString(v[k])}`).join(" ")}]`;
    }
    return `{${Object.entries(v)
      .map(([k, x]) => goString(x, false, k))
      .join(" ")}}`;
  }
  const s = (v as { toString(): string }).toString();
  return s;
}

/** Go template truthiness: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "string":
      return v.length > 0;
    case "function":
      return true;
  }
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return !isMapLike(v) || Object.keys(v).length > 0;
  return true;
}

/** Go's type name of a value, for error messages. */
export function goTypeName(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int" : "float64";
    case "boolean":
      return "bool";
  }
  if (Array.isArray(v)) return "[]interface {}";
  if (isPlainObject(v)) return isMapLike(v) ? "map[string]interface {}" : "struct";
  return (v as object).constructor?.name ?? "object";
}
