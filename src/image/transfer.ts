/** One JSON line of pull/push progress, as Docker streams them. */
export interface ProgressMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: Record<string, unknown>;
}

/** Where progress goes (the API writes each as a JSON line). */
export type ProgressSink = (m: ProgressMessage) => void;

/** Reports byte progress of one layer at most every 100 ms (and always at the end). */
export function throttled(
  sink: ProgressSink,
  id: string,
  status: string,
  total: number,
): (current: number, final?: boolean) => void {
  let last = 0;
  return (current, final) => {
    const now = Date.now();
    if (!final && now - last < 100) return;
    last = now;
    sink({ id, status, progressDetail: { current, total: total > 0 ? total : undefined } });
  };
}

/** Runs `fn` over items with at most `limit` at once, starting them in order. */
export async function parallel<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  onQueued?: (item: T, index: number) => void,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  items.forEach((it, i) => {
    if (i >= limit) onQueued?.(it, i);
  });
  const worker = async () => {
    while (next < items.length && !errors.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}
