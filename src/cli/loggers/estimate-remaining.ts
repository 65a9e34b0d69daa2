/**
 * The run's overall ETA: how long the stages not yet finished will take, given how long each took the last time
 * it succeeded, the order the graph allows and how many stages of each class run at once (-j for cpu stages,
 * --accel for accel stages). Summing the durations would be right only with -j 1; dividing the sum by -j would be
 * wrong for a chain. So the estimate replays the scheduler: stages start in pipeline order as soon as their
 * upstream stages are done and a slot of their class is free, as engine/run/run-pipeline.ts starts them.
 */
import type { ResourceClass } from '../../contract/stage-kind.js';

export interface PlannedStage {
  id: string;
  /** upstream stage ids (those outside the run are already done) */
  upstream: readonly string[];
  class: ResourceClass;
  /** how long it took when it last succeeded; undefined: never timed */
  expectedMs: number | undefined;
}

export interface RunState {
  /** stages done (executed, restored, fresh, failed or skipped) */
  finished: ReadonlySet<string>;
  /** running stage id → how long it has been running */
  runningMs: ReadonlyMap<string, number>;
  /** how many stages of each class run at once */
  slots: Readonly<Record<ResourceClass, number>>;
}

export interface Estimate {
  ms: number;
  /** stages left that were never timed: counted as taking no time, so `ms` is a lower bound when this is not 0 */
  unknown: number;
}

/** A binary min-heap of numbers ordered by `less`. */
class Heap {
  readonly #items: number[] = [];
  readonly #less: (a: number, b: number) => boolean;

  constructor(less: (a: number, b: number) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  push(x: number): void {
    const a = this.#items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.#less(a[i] as number, a[p] as number)) break;
      [a[i], a[p]] = [a[p] as number, a[i] as number];
      i = p;
    }
  }

  pop(): number | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.#less(a[l] as number, a[m] as number)) m = l;
      if (r < a.length && this.#less(a[r] as number, a[m] as number)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m] as number, a[i] as number];
      i = m;
    }
    return top;
  }
}

/**
 * Time until the last of the remaining stages ends, by list scheduling the run's plan from now: running stages
 * hold their slots for what is left of their previous duration (at least nothing: a stage running longer than last
 * time is taken to end now), then ready stages start by pipeline order in the slots of their class.
 */
export function estimateRemaining(stages: readonly PlannedStage[], state: RunState): Estimate {
  const index = new Map(stages.map((s, i) => [s.id, i]));
  const waiting = stages.map((s) => s.upstream.filter((u) => index.has(u) && !state.finished.has(u)).length);
  const dependents: number[][] = stages.map(() => []);
  stages.forEach((s, i) => {
    for (const u of s.upstream) {
      const j = index.get(u);
      if (j !== undefined && !state.finished.has(u)) dependents[j]?.push(i);
    }
  });
  const duration = (i: number): number => stages[i]?.expectedMs ?? 0;
  const ends: number[] = [];
  const inFlight = new Heap((a, b) => (ends[a] ?? 0) < (ends[b] ?? 0) || ((ends[a] ?? 0) === (ends[b] ?? 0) && a < b));
  const ready: Record<ResourceClass, Heap> = { cpu: new Heap((a, b) => a < b), accel: new Heap((a, b) => a < b) };
  const free: Record<ResourceClass, number> = { cpu: Math.max(1, state.slots.cpu), accel: Math.max(1, state.slots.accel) };
  let unknown = 0;
  stages.forEach((s, i) => {
    if (state.finished.has(s.id)) return;
    if (s.expectedMs === undefined) unknown++;
    const ran = state.runningMs.get(s.id);
    if (ran !== undefined) {
      ends[i] = Math.max(0, duration(i) - ran);
      free[s.class]--;
      inFlight.push(i);
    } else if (waiting[i] === 0) ready[s.class].push(i);
  });
  let now = 0;
  for (;;) {
    for (const c of ['cpu', 'accel'] as const) {
      while (free[c] > 0 && ready[c].size > 0) {
        const i = ready[c].pop() as number;
        ends[i] = now + duration(i);
        free[c]--;
        inFlight.push(i);
      }
    }
    const done = inFlight.pop();
    if (done === undefined) break;
    now = ends[done] ?? now;
    const stage = stages[done];
    if (stage) free[stage.class]++;
    for (const d of dependents[done] ?? []) {
      waiting[d] = (waiting[d] ?? 1) - 1;
      const ds = stages[d];
      if (waiting[d] === 0 && ds && !state.runningMs.has(ds.id)) ready[ds.class].push(d);
    }
  }
  return { ms: now, unknown };
}
