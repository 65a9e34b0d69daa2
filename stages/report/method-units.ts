/**
 * Groups daily-dilemmas per-row scores into the report's rows ("units"): one per steering method with its own
 * α = 0 as reference, one per paired prompt family (dishonest prompt as −1, base as 0, honest prompt as +1,
 * study-ref §9.6), and a forward-only unit for any prompt whose family partner is absent (reference prompt:base).
 */
import { parseMethod, PROMPT_BASE_METHOD, type DilemmasPerRowRow } from '../lib/artifacts.js';
import type { Arms } from '../lib/si.js';
import { ReportInputError, type StageRows } from './load-inputs.js';
import type { TableSource } from './table-model.js';

/** The paired prompt families of the reference report: family name → [dishonest (−1), honest (+1)] prompt names. */
export const PROMPT_FAMILIES: Readonly<Record<string, readonly [string, string]>> = {
  simple: ['simple_dishonest_prompt', 'simple_honest_prompt'],
  engineered: ['engineered_prompt_dishonest', 'engineered_prompt_honest'],
};

/**
 * A prompt's name in the tables: a family member is `prompt:<family>_<honest|dishonest>` in every table (the
 * reference's own names in its T1 and α* tables, e.g. prompt:simple_honest), whatever its PROMPTS key
 * (simple_honest_prompt, engineered_prompt_honest …); any other prompt keeps `prompt:<key>`.
 */
export function promptDisplayName(method: string): string {
  const key = method.startsWith('prompt:') ? method.slice(7) : method;
  for (const [family, [dishonest, honest]] of Object.entries(PROMPT_FAMILIES)) {
    if (key === dishonest) return `prompt:${family}_dishonest`;
    if (key === honest) return `prompt:${family}_honest`;
  }
  return method;
}

/** One note per table: which PROMPTS keys the prompt rows shown stand for. */
export function promptNameNotes(names: readonly string[]): string[] {
  const parts: string[] = [];
  for (const [family, [dishonest, honest]] of Object.entries(PROMPT_FAMILIES)) {
    if (names.includes(`prompt:${family}`)) parts.push(`prompt:${family} = ${dishonest} at −1, ${honest} at +1`);
    if (names.includes(`prompt:${family}_honest`)) parts.push(`prompt:${family}_honest = ${honest}`);
    if (names.includes(`prompt:${family}_dishonest`)) parts.push(`prompt:${family}_dishonest = ${dishonest}`);
  }
  return parts.length === 0
    ? []
    : [`Prompt rows are named as in the reference study's tables; the system prompts (PROMPTS keys) they stand for: ${parts.join('; ')}.`];
}

/** The per-row records of one method at one coeff, with where they came from. */
export interface MethodCoeffRows {
  method: string;
  coeff: number;
  stageId: string;
  file: string;
  rows: DilemmasPerRowRow[];
}

/** All rows of one method, by coeff. */
export interface MethodRows {
  method: string;
  byCoeff: Map<number, MethodCoeffRows>;
}

export type UnitKind = 'steering' | 'prompt-family' | 'prompt-forward';

/** One row of the SI / logratio tables. */
export interface AnalysisUnit {
  name: string;
  kind: UnitKind;
  /** the rows at −1 / 0 / +1 (roles for prompts; ±α* for calibrated steering) */
  arms: Arms<DilemmasPerRowRow>;
  /** coeff → rows, for curves over every α a sweep has (prompts: their roles −1/0/+1) */
  curve: Map<number, DilemmasPerRowRow[]>;
  /** actual coeffs of the arms (calibrated: ±α*) */
  coeffs: { pos: number | null; neg: number | null };
  sources: TableSource[];
}

/**
 * Collects rows by (method, coeff) over several stages. The same (method, coeff) from two stages is accepted
 * only when both carry identical rows (e.g. prompt:base evaluated by two stages); otherwise it is an error,
 * because the report could not say which one its numbers come from.
 */
export function collectMethods(stages: readonly StageRows<DilemmasPerRowRow>[], input: string): Map<string, MethodRows> {
  const methods = new Map<string, MethodRows>();
  for (const stage of stages) {
    const groups = new Map<string, MethodCoeffRows>();
    for (const row of stage.rows) {
      try {
        parseMethod(row.method);
      } catch (err) {
        throw new ReportInputError(`report input "${input}" (stage ${stage.stageId}): ${stage.file}: column method: ${(err as Error).message}`);
      }
      if (!Number.isFinite(row.coeff)) {
        throw new ReportInputError(`report input "${input}" (stage ${stage.stageId}): ${stage.file}: column coeff: ${row.coeff} for method ${row.method} idx ${row.idx}`);
      }
      if (row.honesty_label !== 1 && row.honesty_label !== -1) {
        throw new ReportInputError(
          `report input "${input}" (stage ${stage.stageId}): ${stage.file}: column honesty_label must be +1 or -1, got ${row.honesty_label} (method ${row.method}, idx ${row.idx})`,
        );
      }
      const key = `${row.method}\u0000${row.coeff}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { method: row.method, coeff: row.coeff, stageId: stage.stageId, file: stage.file, rows: [] };
        groups.set(key, g);
      }
      g.rows.push(row);
    }
    for (const g of groups.values()) {
      let m = methods.get(g.method);
      if (m === undefined) {
        m = { method: g.method, byCoeff: new Map() };
        methods.set(g.method, m);
      }
      const prior = m.byCoeff.get(g.coeff);
      if (prior !== undefined) {
        if (sameRows(prior.rows, g.rows)) continue;
        throw new ReportInputError(
          `report input "${input}": method ${g.method} at coeff ${g.coeff} comes from two stages with different scores: ` +
            `${prior.stageId} (${prior.file}) and ${g.stageId} (${g.file}); give each method to one stage`,
        );
      }
      m.byCoeff.set(g.coeff, g);
    }
  }
  return methods;
}

function sameRows(a: readonly DilemmasPerRowRow[], b: readonly DilemmasPerRowRow[]): boolean {
  if (a.length !== b.length) return false;
  const key = (r: DilemmasPerRowRow): string =>
    JSON.stringify([r.idx, r.dilemma_idx, r.action_type, r.logratio, r.pmass, r.honesty_label, r.logratio_honesty]);
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.every((k, i) => k === kb[i]);
}

function sourcesOf(parts: readonly (MethodCoeffRows | undefined)[]): TableSource[] {
  const byStage = new Map<string, Set<string>>();
  for (const p of parts) {
    if (p === undefined) continue;
    const files = byStage.get(p.stageId) ?? new Set<string>();
    files.add(basename(p.file));
    byStage.set(p.stageId, files);
  }
  return [...byStage.entries()].map(([stageId, files]) => ({ stageId, files: [...files] }));
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

/** A prompt method carries exactly one coeff (1.0 by convention; prompt:base 0). */
function singleCoeff(m: MethodRows, input: string): MethodCoeffRows {
  const parts = [...m.byCoeff.values()];
  if (parts.length !== 1) {
    throw new ReportInputError(
      `report input "${input}": prompt method ${m.method} has rows at ${parts.length} coeffs (${parts.map((p) => p.coeff).join(', ')}); a prompt is evaluated once`,
    );
  }
  return parts[0] as MethodCoeffRows;
}

export interface UnitOptions {
  input: string;
  /** how to pick the steering arms: exactly −1/0/+1 (the α = ±1 tables) or by sign of coeff (±α*) */
  arms: 'unit-coeffs' | 'by-sign';
  /**
   * true: pair each family's dishonest/honest prompts as −1/+1 around prompt:base (the α = ±1 tables, §14.3);
   * false: every prompt forward-only against prompt:base (the calibrated table, §10.4)
   */
  promptFamilies: boolean;
}

export interface UnitsResult {
  units: AnalysisUnit[];
  /** methods that could not form a unit, and why */
  notes: string[];
}

/** Builds the report rows from collected methods. */
export function buildUnits(methods: ReadonlyMap<string, MethodRows>, opts: UnitOptions): UnitsResult {
  const units: AnalysisUnit[] = [];
  const notes: string[] = [];
  const base = methods.get(PROMPT_BASE_METHOD);
  const baseRows = base === undefined ? undefined : singleCoeff(base, opts.input);
  const usedPrompts = new Set<string>();

  for (const m of methods.values()) {
    const parsed = parseMethod(m.method);
    if (parsed.kind === 'prompt') continue;
    const unit = steeringUnit(m, opts);
    if (typeof unit === 'string') notes.push(unit);
    else units.push(unit);
  }

  for (const [family, [dishonest, honest]] of opts.promptFamilies ? Object.entries(PROMPT_FAMILIES) : []) {
    const neg = methods.get(`prompt:${dishonest}`);
    const pos = methods.get(`prompt:${honest}`);
    if (neg === undefined || pos === undefined) continue;
    if (baseRows === undefined) {
      notes.push(`prompt:${family}: the family needs ${PROMPT_BASE_METHOD} (the empty system prompt) as its reference; none was found`);
      usedPrompts.add(neg.method).add(pos.method);
      continue;
    }
    const negRows = singleCoeff(neg, opts.input);
    const posRows = singleCoeff(pos, opts.input);
    usedPrompts.add(neg.method).add(pos.method);
    units.push({
      name: `prompt:${family}`,
      kind: 'prompt-family',
      arms: { ref: baseRows.rows, pos: posRows.rows, neg: negRows.rows },
      curve: new Map([
        [-1, negRows.rows],
        [0, baseRows.rows],
        [1, posRows.rows],
      ]),
      coeffs: { pos: 1, neg: -1 },
      sources: sourcesOf([negRows, baseRows, posRows]),
    });
  }

  for (const m of methods.values()) {
    if (m.method === PROMPT_BASE_METHOD || usedPrompts.has(m.method) || parseMethod(m.method).kind !== 'prompt') continue;
    const rows = singleCoeff(m, opts.input);
    if (baseRows === undefined) {
      notes.push(`${m.method}: forward-only SI needs ${PROMPT_BASE_METHOD} as its reference; none was found`);
      continue;
    }
    units.push({
      name: promptDisplayName(m.method),
      kind: 'prompt-forward',
      arms: { ref: baseRows.rows, pos: rows.rows },
      curve: new Map([
        [0, baseRows.rows],
        [1, rows.rows],
      ]),
      coeffs: { pos: rows.coeff, neg: null },
      sources: sourcesOf([baseRows, rows]),
    });
  }
  return { units, notes };
}

function steeringUnit(m: MethodRows, opts: UnitOptions): AnalysisUnit | string {
  const ref = m.byCoeff.get(0);
  if (ref === undefined) {
    return `${m.method}: no rows at α = 0 (its reference); it has α = ${[...m.byCoeff.keys()].sort((a, b) => a - b).join(', ')}`;
  }
  let pos: MethodCoeffRows | undefined;
  let neg: MethodCoeffRows | undefined;
  if (opts.arms === 'unit-coeffs') {
    pos = m.byCoeff.get(1);
    neg = m.byCoeff.get(-1);
  } else {
    const positive = [...m.byCoeff.values()].filter((p) => p.coeff > 0);
    const negative = [...m.byCoeff.values()].filter((p) => p.coeff < 0);
    if (positive.length > 1 || negative.length > 1) {
      throw new ReportInputError(
        `report input "${opts.input}": ${m.method} has several α of one sign (${[...m.byCoeff.keys()].join(', ')}); a calibrated eval has exactly −α*, 0 and +α*`,
      );
    }
    pos = positive[0];
    neg = negative[0];
  }
  if (pos === undefined && neg === undefined) {
    return `${m.method}: no steered rows (${opts.arms === 'unit-coeffs' ? 'α = ±1' : 'α ≠ 0'}) next to its α = 0 rows`;
  }
  const curve = new Map<number, DilemmasPerRowRow[]>();
  for (const [c, p] of [...m.byCoeff.entries()].sort((a, b) => a[0] - b[0])) curve.set(c, p.rows);
  const arms: Arms<DilemmasPerRowRow> = { ref: ref.rows };
  if (pos !== undefined) arms.pos = pos.rows;
  if (neg !== undefined) arms.neg = neg.rows;
  return {
    name: m.method,
    kind: 'steering',
    arms,
    curve,
    coeffs: { pos: pos?.coeff ?? null, neg: neg?.coeff ?? null },
    sources: sourcesOf([...m.byCoeff.values()]),
  };
}
