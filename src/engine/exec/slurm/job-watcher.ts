/**
 * One squeue call per poll for every job this run has in flight, however many: a shared controller is polled at a
 * fixed rate by each wsflow run, not by each stage. Each job's waiter hears every state it is seen in.
 */
import { squeueStates } from './slurm-commands.js';
import { phaseOf, type JobStatus } from './job-states.js';

export type JobUpdate =
  | { type: 'status'; status: JobStatus }
  /** SLURM stopped listing the job (it forgot it, or it ended longer than MinJobAge ago) */
  | { type: 'vanished' }
  /** squeue itself failed; the job is still watched */
  | { type: 'poll-error'; error: string };

/** A job that squeue stops listing is taken as gone only after this many polls: one may miss it across a restart. */
const VANISHED_AFTER_POLLS = 3;

interface Watched {
  listener(update: JobUpdate): void;
  missing: number;
  seen: boolean;
}

export class JobWatcher {
  readonly #pollMs: number;
  readonly #jobs = new Map<string, Watched>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(pollMs: number) {
    this.#pollMs = pollMs;
  }

  watch(jobId: string, listener: (update: JobUpdate) => void): () => void {
    this.#jobs.set(jobId, { listener, missing: 0, seen: false });
    this.#schedule(0);
    return () => {
      this.#jobs.delete(jobId);
    };
  }

  /** Polls again now instead of at the next tick (after a scancel, to see the end sooner). */
  nudge(): void {
    this.#schedule(0);
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#jobs.clear();
  }

  #schedule(delayMs: number): void {
    if (this.#jobs.size === 0 || this.#polling) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#poll(), delayMs);
  }

  async #poll(): Promise<void> {
    this.#timer = null;
    if (this.#jobs.size === 0) return;
    this.#polling = true;
    const ids = [...this.#jobs.keys()];
    try {
      const r = await squeueStates(ids);
      for (const id of ids) {
        const w = this.#jobs.get(id);
        if (!w) continue;
        if (!r.ok) {
          w.listener({ type: 'poll-error', error: r.error });
          continue;
        }
        const status = r.value.get(id);
        if (status) {
          w.seen = true;
          w.missing = 0;
          w.listener({ type: 'status', status });
          if (phaseOf(status.state) === 'ended') this.#jobs.delete(id);
        } else if (++w.missing >= VANISHED_AFTER_POLLS) {
          this.#jobs.delete(id);
          w.listener({ type: 'vanished' });
        }
      }
    } finally {
      this.#polling = false;
      this.#schedule(this.#pollMs);
    }
  }
}
