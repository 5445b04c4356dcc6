/** Async collectors for tests: drain an iterable, or drain it until it fails. */

/** Collects every item of an async (or sync) iterable. */
export async function collect<T>(it: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Collects items until the iterable ends or throws: `{ items, error }`, `error` undefined when it ended normally.
 * For tests of what was delivered before a failure.
 */
export async function collectUntilError<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

/**
 * Records what an emitter-like `on(event, fn)` delivers for one event name. Returns the array the events land in.
 */
export function eventsOf<T>(emitter: { on(event: string, fn: (e: T) => void): unknown }, event: string): T[] {
  const out: T[] = [];
  emitter.on(event, (e: T) => {
    out.push(e);
  });
  return out;
}
