// Go's time.ParseDuration, the one reader of duration strings (Dockerfile HEALTHCHECK flags, commit --change,
// compose files, CLI flags, the registry's --grace): callers wrap its error in their own error type.
const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A Go duration (`1m30s`, `1.5h`, `300ms`, `-2s`, `0`) in nanoseconds; throws Go's `time: invalid duration "x"`. */
export function parseGoDuration(s: string): number {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const m = re.exec(rest);
    if (!m) break;
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (!rest || pos !== rest.length) throw new Error(`time: invalid duration "${s}"`);
  return sign * Math.round(total);
}
