/**
 * Go's docker/go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours", ...
 * Docker prints container status ("Up 5 seconds") and ages ("2 minutes ago") with it.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

const RAM_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * go-units' RAMInBytes, which the docker CLI and compose use for sizes (`512m`, `1g`, `1.5GiB`, `100`):
 * binary multiples, truncated to whole bytes; undefined when it is not a size, so callers word the error.
 */
export function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (Number.isNaN(n)) return undefined;
  return Math.trunc(n * (m[2] ? RAM_UNITS[m[2].toLowerCase()] : 1));
}

const DECIMAL = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** Go's `%.{prec}g`: `prec` significant digits, trailing zeros dropped, exponent for very large/small. */
export function formatG(x: number, prec: number): string {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  let s = x.toPrecision(prec);
  // toPrecision may round up into the next power of ten (999.5 → "1.00e+3").
  const m = /e([+-]\d+)$/.exec(s);
  const e = m ? Number(m[1]) : exp;
  if (e < -4 || e >= prec) {
    s = x.toExponential(prec - 1);
    let [mant, ex] = s.split("e");
    if (mant.includes(".")) mant = mant.replace(/\.?0+$/, "");
    const sign = ex.startsWith("-") ? "-" : "+";
    const digits = ex.replace(/^[+-]/, "").padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  if (s.includes(".")) s = s.replace(/\.?0+$/, "");
  return s;
}

/** go-units HumanSizeWithPrecision: decimal units, e.g. `4.26MB`, `1.2kB`, `512B`. */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL[i]}`;
}

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/** go-units BytesSize: binary units with 4 significant digits (`1.98MiB`). */
export function bytesSize(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < BINARY.length - 1) {
    v /= 1024;
    i++;
  }
  return `${formatG(v, 4)}${BINARY[i]}`;
}
