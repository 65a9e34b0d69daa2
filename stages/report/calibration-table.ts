/**
 * The KL calibration table (study-ref §10.1 "Result": α*, calib p95, audit p95, iters) and the search curves.
 */
import type { CalibrationInput } from './load-inputs.js';
import type { KlCurveRow } from './plot-specs.js';
import type { CellValue, ReportTable, TableSource } from './table-model.js';
import type { CalibratedAlpha } from './dilemma-tables.js';
import { splitSeed } from './seed-groups.js';

export interface CalibrationResult {
  table: ReportTable;
  curve: KlCurveRow[];
  /** the budget all methods were calibrated to (the first stage's, when stages disagree) */
  target: number;
  alphas: CalibratedAlpha[];
  warnings: string[];
}

export function calibrationTable(inputs: readonly CalibrationInput[]): CalibrationResult {
  const rows: Record<string, CellValue>[] = [];
  const curve: KlCurveRow[] = [];
  const alphas: CalibratedAlpha[] = [];
  const warnings: string[] = [];
  const sources: TableSource[] = [];
  const targets = new Set<number>();
  const seen = new Map<string, string>();
  const hasV3 = inputs.some((i) => i.version === 'v3');
  for (const input of inputs) {
    const files = [input.summaryFile, input.auditFile, input.historyFile].filter((f): f is string => f !== null).map(base);
    sources.push({ stageId: input.stageId, files });
    for (const s of input.summary) {
      const prior = seen.get(s.method);
      if (prior !== undefined) {
        warnings.push(`KL calibration: ${s.method} is calibrated by both ${prior} and ${input.stageId}; both rows are shown`);
      }
      seen.set(s.method, input.stageId);
      targets.add(s.target);
      const audit = input.audit.find((a) => a.method === s.method && a.sign === '+');
      rows.push({
        method: s.method,
        alpha: s.alpha,
        ...(hasV3 ? { alpha_neg: s.alphaNeg } : {}),
        p95_calib: s.p95Calib,
        p95_audit: audit?.p95Audit ?? null,
        audit_ratio: audit === undefined ? null : audit.p95Audit / audit.p95Calib,
        iterations: s.iterations,
        converged: s.converged ? 'yes' : 'no',
        target: s.target,
        source: input.stageId,
      });
      alphas.push({ method: s.method, alpha: s.alpha, stageId: input.stageId, converged: s.converged });
    }
    for (const h of input.history) {
      // one colour per method: the seeds of a method are separate lines of the same colour, not legend entries
      const { name, seed } = splitSeed(h.method);
      const method = h.sign === '+' ? name : `${name} (−α)`;
      curve.push({ method, series: `${method} seed ${seed}`, alpha: h.alpha, p95: h.p95, iter: h.iter });
    }
  }
  rows.sort((a, b) => (a.alpha as number) - (b.alpha as number));
  if (targets.size > 1) {
    warnings.push(
      `KL calibration: methods were calibrated to different targets (${[...targets].join(', ')} nats); their α* are not comparable`,
    );
  }
  const target = [...targets][0] ?? Number.NaN;
  const table: ReportTable = {
    id: 'kl-calibration',
    title: 'KL calibration: α* per method',
    caption:
      `α* is the coefficient at which the method's p95 token-KL(steered ‖ base) on off-task prompts reaches the budget ` +
      `(target ${Number.isFinite(target) ? target.toFixed(4) : 'unknown'} nats). The audit re-measures at α* on held-out prompts; ` +
      'audit/calib far from 1 means the calibration set was too small to pin the budget.',
    columns: [
      { key: 'method', header: 'method' },
      { key: 'alpha', header: hasV3 ? 'α*(+)' : 'α*', format: { type: 'fixed', digits: 2 } },
      ...(hasV3 ? [{ key: 'alpha_neg', header: 'α*(−)', format: { type: 'fixed', digits: 2 } } as const] : []),
      { key: 'p95_calib', header: 'calib p95', format: { type: 'fixed', digits: 3 } },
      { key: 'p95_audit', header: 'audit p95', format: { type: 'fixed', digits: 3 } },
      { key: 'audit_ratio', header: 'audit/calib', format: { type: 'fixed', digits: 2 } },
      { key: 'iterations', header: 'iters', format: { type: 'int' } },
      { key: 'converged', header: 'converged' },
      { key: 'target', header: 'target', format: { type: 'fixed', digits: 4 } },
      { key: 'source', header: 'source' },
    ],
    rows,
    sources,
    notes: [],
  };
  return { table, curve, target, alphas, warnings };
}

function base(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
