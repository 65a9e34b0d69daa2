/**
 * Seeds aggregated: `seed: [0, 1]` gives one method per adapter in the tables and plots (mean over seeds, sample std
 * and `n_seeds`), not `dW:dora` and `dW:dora.s1` side by side. The diff stage names a seed's method
 * `dW:<adapter>.s<seed>` (seed 0 keeps the plain name), which is what groups them here.
 */
import type { DilemmasPerRowRow } from '../lib/artifacts.js';
import { mean, type SiMetrics } from '../lib/si.js';
import { sampleStd } from './dilemma-tables.js';
import type { AnalysisUnit } from './method-units.js';
import type { TableSource } from './table-model.js';

/** One seed of a method: its unit and metrics. */
export interface SeedMember {
  seed: number;
  unit: AnalysisUnit;
  metrics: SiMetrics;
}

/** A method over its seeds: mean metrics, their sample std (NaN for one seed), and the members. */
export interface MethodGroup {
  /** the method without its seed suffix */
  name: string;
  kind: AnalysisUnit['kind'];
  members: SeedMember[];
  /** mean over seeds of every numeric metric (counts included, so they may be fractional) */
  metrics: SiMetrics;
  /** sample std (ddof = 1) over seeds of every numeric metric */
  std: Record<NumericMetric, number>;
  /** the mean over seeds of the steered coeffs (±α* differ per seed) */
  coeffs: { pos: number | null; neg: number | null };
  /** per α, the rows of every seed together (for pooled means and curves) */
  curve: Map<number, DilemmasPerRowRow[]>;
  /** every seed's rows per arm, together */
  pooledArms: { ref: DilemmasPerRowRow[]; pos?: DilemmasPerRowRow[]; neg?: DilemmasPerRowRow[] };
  sources: TableSource[];
}

type NumericMetric = Exclude<keyof SiMetrics, 'direction'>;

const SEED_SUFFIX = /^(dW:.+)\.s(\d+)$/;

/** Method name → (method without seed, seed). */
export function splitSeed(method: string): { name: string; seed: number } {
  const m = SEED_SUFFIX.exec(method);
  return m === null ? { name: method, seed: 0 } : { name: m[1] as string, seed: Number(m[2]) };
}

function meanOrNull(xs: readonly (number | null)[]): number | null {
  const present = xs.filter((x): x is number => x !== null);
  return present.length === 0 ? null : mean(present);
}

function mergeSources(members: readonly SeedMember[]): TableSource[] {
  const byStage = new Map<string, Set<string>>();
  for (const m of members) {
    for (const s of m.unit.sources) {
      const files = byStage.get(s.stageId) ?? new Set<string>();
      for (const f of s.files) files.add(f);
      byStage.set(s.stageId, files);
    }
  }
  return [...byStage.entries()].map(([stageId, files]) => ({ stageId, files: [...files].sort() }));
}

/** Groups units by method without seed, in first-seen order; members sorted by seed. */
export function groupSeeds(all: readonly { unit: AnalysisUnit; metrics: SiMetrics }[]): MethodGroup[] {
  const groups = new Map<string, SeedMember[]>();
  for (const um of all) {
    const { name, seed } = splitSeed(um.unit.name);
    const list = groups.get(name) ?? [];
    list.push({ seed, unit: um.unit, metrics: um.metrics });
    groups.set(name, list);
  }
  return [...groups.entries()].map(([name, members]) => {
    members.sort((a, b) => a.seed - b.seed);
    const first = members[0] as SeedMember;
    const metrics = { ...first.metrics };
    const std = {} as Record<NumericMetric, number>;
    for (const key of Object.keys(first.metrics) as (keyof SiMetrics)[]) {
      if (key === 'direction') continue;
      const xs = members.map((m) => m.metrics[key]);
      metrics[key] = mean(xs);
      std[key] = sampleStd(xs);
    }
    const curve = new Map<number, DilemmasPerRowRow[]>();
    for (const m of members) {
      for (const [alpha, rows] of m.unit.curve) curve.set(alpha, [...(curve.get(alpha) ?? []), ...rows]);
    }
    const pooled = (arm: 'ref' | 'pos' | 'neg'): DilemmasPerRowRow[] | undefined =>
      members.every((m) => m.unit.arms[arm] !== undefined) ? members.flatMap((m) => [...(m.unit.arms[arm] ?? [])]) : undefined;
    const pos = pooled('pos');
    const neg = pooled('neg');
    return {
      name,
      kind: first.unit.kind,
      members,
      metrics,
      std,
      coeffs: { pos: meanOrNull(members.map((m) => m.unit.coeffs.pos)), neg: meanOrNull(members.map((m) => m.unit.coeffs.neg)) },
      curve: new Map([...curve.entries()].sort((a, b) => a[0] - b[0])),
      pooledArms: { ref: pooled('ref') ?? [], ...(pos ? { pos } : {}), ...(neg ? { neg } : {}) },
      sources: mergeSources(members),
    };
  });
}

/** One group per (method, seed), named "<method> · seed <n>": the per-seed rows a report shows on demand. */
export function perSeedGroups(all: readonly { unit: AnalysisUnit; metrics: SiMetrics }[]): MethodGroup[] {
  return all.flatMap((um) => {
    const { name, seed } = splitSeed(um.unit.name);
    return groupSeeds([um]).map((g) => ({ ...g, name: `${name} · seed ${seed}` }));
  });
}
