/**
 * From per-row daily-dilemmas scores to the SI "units" the stage outputs report (study-ref §9.6, §10.4): a steering
 * method's ±α pairs (bidirectional SI against its own α = 0), a prompt's forward-only SI against prompt:base, and
 * the paired prompt families (dishonest prompt as −1, base as 0, honest prompt as +1).
 */
import { PROMPT_BASE_METHOD, type DilemmasPerRowRow } from '../artifacts.js';
import { groupBy } from '../group-by.js';
import { PROMPT_FAMILIES } from '../prompts.js';
import { armsBySign, siByActionType, siFromRows, type ActionTypeSi, type Arms, type SiMetrics } from '../si.js';

export interface SiUnit {
  /** method or family name (prompt:simple, prompt:engineered) */
  name: string;
  /** the +α of the pair (1 for prompts) */
  alpha: number;
  /** the −α magnitude (v3 calibration may differ from alpha); null when there is no −α arm */
  alphaNeg: number | null;
  metrics: SiMetrics;
  byActionType: ActionTypeSi[];
}

function unit(name: string, alpha: number, alphaNeg: number | null, arms: Arms<DilemmasPerRowRow>): SiUnit {
  const label = `${name} (α=${alpha})`;
  return { name, alpha, alphaNeg, metrics: siFromRows(arms, { label }), byActionType: siByActionType(arms, { label }) };
}

/**
 * A steering method's units: one per +α that has a −α partner (or forward-only when none). With `bySign` (a
 * calibrated eval: exactly −α*, 0, +α*) the single pair is formed by sign, whatever the magnitudes.
 */
export function steeringUnits(method: string, rows: readonly DilemmasPerRowRow[], bySign: boolean): SiUnit[] {
  const mine = rows.filter((r) => r.method === method);
  if (bySign) {
    const arms = armsBySign(mine, method);
    return [unit(method, arms.coeffs.pos ?? NaN, arms.coeffs.neg === undefined ? null : -arms.coeffs.neg, arms)];
  }
  const ref = mine.filter((r) => r.coeff === 0);
  if (ref.length === 0) throw new Error(`${method}: no rows at α = 0, the reference of its SI; add 0 to coeffs`);
  const positive = [...new Set(mine.filter((r) => r.coeff > 0).map((r) => r.coeff))].sort((a, b) => a - b);
  const units: SiUnit[] = [];
  for (const c of positive) {
    const pos = mine.filter((r) => r.coeff === c);
    const neg = mine.filter((r) => r.coeff === -c);
    units.push(unit(method, c, neg.length > 0 ? c : null, neg.length > 0 ? { ref, pos, neg } : { ref, pos }));
  }
  return units;
}

/** The unit a single-number summary is read from: α = 1 when present, else the smallest α. */
export function mainUnit(units: readonly SiUnit[]): SiUnit | undefined {
  return units.find((u) => u.alpha === 1) ?? [...units].sort((a, b) => a.alpha - b.alpha)[0];
}

/** Prompt methods: forward-only SI per prompt against prompt:base, and the paired families when complete. */
export function promptUnits(rows: readonly DilemmasPerRowRow[]): SiUnit[] {
  const byMethod = groupBy(rows, (r) => r.method);
  const base = byMethod.get(PROMPT_BASE_METHOD);
  if (base === undefined) return [];
  const units: SiUnit[] = [];
  for (const [method, rs] of byMethod) {
    if (method === PROMPT_BASE_METHOD) continue;
    units.push(unit(method, 1, null, { ref: base, pos: rs }));
  }
  for (const [family, names] of Object.entries(PROMPT_FAMILIES)) {
    const pos = byMethod.get(`prompt:${names.pos}`);
    const neg = byMethod.get(`prompt:${names.neg}`);
    if (pos !== undefined && neg !== undefined) units.push(unit(`prompt:${family}`, 1, 1, { ref: base, pos, neg }));
  }
  return units;
}
