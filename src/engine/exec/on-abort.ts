/**
 * One 'abort' listener per signal, however many waiters. A run's stop signal is watched by every stage waiting
 * for a slot or a lease and every running stage; one listener each trips Node's MaxListenersExceededWarning past
 * ten (30 stages queued on the accel slot) and, in `wsflow watch`, would pile up across runs.
 */
const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once when `signal` aborts; the returned function unsubscribes (call it when the wait ends).
 * Like addEventListener, nothing is called for a signal that has already aborted: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let set = subscribers.get(signal);
  if (!set) {
    const callbacks = new Set<() => void>();
    set = callbacks;
    subscribers.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        subscribers.delete(signal);
        for (const cb of [...callbacks]) cb();
        callbacks.clear();
      },
      { once: true },
    );
  }
  // a wrapper, so that the same function subscribed twice is called twice and unsubscribed once
  const entry = (): void => callback();
  set.add(entry);
  const callbacks = set;
  return () => {
    callbacks.delete(entry);
  };
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = onAbort(signal, done);
  });
}
