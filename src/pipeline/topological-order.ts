/**
 * Topological order with ties broken by declaration order (Kahn's algorithm over a min-heap of declaration
 * indices), and the path of a cycle when there is one.
 */
import { err, ok, type Result } from '../contract/result.js';

class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * `ids` in declaration order; `upstreams(id)` lists the ids it needs (each must be in `ids`).
 * On a cycle, returns it as [a, b, …, a] where each id needs the next.
 */
/** The order, or the error: the path of one cycle (its first id repeated at its end). */
export function topologicalOrder(ids: readonly string[], upstreams: (id: string) => readonly string[]): Result<string[], string[]> {
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const waiting = new Array<number>(ids.length).fill(0);
  const downstream: number[][] = ids.map(() => []);
  ids.forEach((id, i) => {
    const seen = new Set<number>();
    for (const up of upstreams(id)) {
      const u = index.get(up);
      if (u === undefined || seen.has(u)) continue;
      seen.add(u);
      waiting[i] = (waiting[i] ?? 0) + 1;
      downstream[u]?.push(i);
    }
  });
  const ready = new MinHeap();
  waiting.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: string[] = [];
  while (ready.size > 0) {
    const i = ready.pop() as number;
    order.push(ids[i] as string);
    for (const d of downstream[i] ?? []) {
      const left = (waiting[d] ?? 0) - 1;
      waiting[d] = left;
      if (left === 0) ready.push(d);
    }
  }
  if (order.length === ids.length) return ok(order);

  // every stage still waiting needs at least one other waiting stage: walking upstream must close a loop
  const stuck = (i: number): boolean => (waiting[i] ?? 0) > 0;
  let current = waiting.findIndex((count) => count > 0);
  const path: number[] = [];
  const position = new Map<number, number>();
  while (!position.has(current)) {
    position.set(current, path.length);
    path.push(current);
    const next = upstreams(ids[current] as string)
      .map((up) => index.get(up))
      .find((u): u is number => u !== undefined && stuck(u));
    if (next === undefined) break; // cannot happen: a waiting stage has a waiting upstream
    current = next;
  }
  const cycle = path.slice(position.get(current) ?? 0).map((i) => ids[i] as string);
  cycle.push(ids[current] as string);
  return err(cycle);
}
