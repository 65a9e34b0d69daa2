/**
 * Capacity of one resource class (`accel`, `cpu`): a counting semaphore whose waiters are served in priority order
 * (lower first: the pipeline's topological order), and which gives up when the run is stopped or interrupted.
 */
import { onAbort } from './on-abort.js';

export class Slots {
  readonly capacity: number;
  #inUse = 0;
  #waiters: { priority: number; seq: number; grant(ok: boolean): void }[] = [];
  #seq = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** Resolves true with a slot held, or false if `signal` aborted first. */
  acquire(priority: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#inUse < this.capacity && this.#waiters.length === 0) {
      this.#inUse++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = {
        priority,
        seq: this.#seq++,
        grant: (ok: boolean): void => {
          unsubscribe();
          resolve(ok);
        },
      };
      const unsubscribe = onAbort(signal, () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      });
      this.#waiters.push(waiter);
      this.#waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.grant(true);
    else this.#inUse--;
  }
}
