/**
 * A format context (one row of `docker ps`, `images`, `network ls`...) as `--format json` prints it: every
 * method that takes no argument, by name, in name order. Docker's formatter marshals its contexts the same
 * way, by reflection over their methods (Go's maps come out sorted); methods that take an argument
 * (`{{.Label "k"}}`) are left out.
 */
export function contextJSON<V = string>(ctx: object): Record<string, V> {
  const proto = Object.getPrototypeOf(ctx) as Record<string, unknown>;
  const out: Record<string, V> = {};
  for (const name of Object.getOwnPropertyNames(proto).sort()) {
    const m = proto[name];
    if (name === "constructor" || name === "toJSON" || typeof m !== "function" || m.length > 0) continue;
    out[name] = (m as () => V).call(ctx);
  }
  return out;
}
