/**
 * Metric objects → artifact rows (stages/lib/artifacts.ts), with the sort orders the reference uses, so that a stage
 * kind only computes metrics and writes tables.
 */
import type { AblationSummaryRow, DilemmasSummaryRow, IidSummaryRow, KlAuditRow, KlNewtonHistoryRow, KlPromptRefsRow, KlRootHistoryRow, KlSummaryRow, KlSummaryV3Row, SiByActionTypeRow, SiSummaryRow, SiTableRow } from './artifacts.js';
import type { CalibrationResult, SignedCalibration } from './calibration.js';
import type { CoeffSummary, IidSummary } from './choice-score.js';
import type { KlStats } from './kl-stats.js';
import type { ActionTypeSi, SiMetrics } from './si.js';

/** Descending by `key`, NaN last (polars `nulls_last` does not cover NaN; we put NaN last deliberately), stable. */
export function sortDescNaNLast<T>(rows: readonly T[], key: (r: T) => number): T[] {
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const x = key(a.r);
      const y = key(b.r);
      const xn = Number.isNaN(x);
      const yn = Number.isNaN(y);
      if (xn !== yn) return xn ? 1 : -1;
      if (!xn && x !== y) return y - x;
      return a.i - b.i;
    })
    .map((e) => e.r);
}

// ---------------------------------------------------------------------------------------------- daily dilemmas

/** study-ref §10.4 summary row; `alpha` is the +α used (α* for dW/RepE, 1.0 for prompts). */
export function siSummaryRow(method: string, alpha: number, m: SiMetrics): SiSummaryRow {
  return {
    method,
    alpha,
    SI: m.SI,
    si_fwd: m.si_fwd,
    si_rev: m.si_rev,
    fix_fwd: m.fix_fwd,
    broke_fwd: m.broke_fwd,
    flip_rev: m.flip_rev,
    counter_rev: m.counter_rev,
    n_cho_ref: m.n_cho,
    n_rej_ref: m.n_rej,
    pmass_ratio: m.pmass_ratio,
    lr_pos: m.lr_pos,
    lr_zero: m.lr_ref,
    lr_neg: m.lr_neg,
  };
}

/** Sorted by SI descending (NaN last), as `dilemmas_calibrated.py`. */
export function siSummaryTable(rows: readonly SiSummaryRow[]): SiSummaryRow[] {
  return sortDescNaNLast(rows, (r) => r.SI);
}

/** The report's T1 row (study-ref §14.3). */
export function siTableRow(method: string, m: SiMetrics, nSeeds = 1): SiTableRow {
  return {
    method,
    SI_k2: m.SI_k2,
    SI_k1: m.SI_k1,
    SI_best: m.SI_best,
    SI_best_intended: m.SI_best_intended,
    si_fwd: m.si_fwd,
    si_rev: m.si_rev,
    fix_rate: m.fix_rate,
    broke_rate: m.broke_rate,
    fix_fwd: m.fix_fwd,
    broke_fwd: m.broke_fwd,
    flip_rev: m.flip_rev,
    counter_rev: m.counter_rev,
    n_cho: m.n_cho,
    n_rej: m.n_rej,
    n_seeds: nSeeds,
  };
}

/** Sorted by SI_best descending (NaN last), as the report. */
export function siTable(rows: readonly SiTableRow[]): SiTableRow[] {
  return sortDescNaNLast(rows, (r) => r.SI_best);
}

export function siByActionTypeRows(method: string, perType: readonly ActionTypeSi[]): SiByActionTypeRow[] {
  return perType.map((t) => ({
    method,
    action_type: t.action_type,
    n_rows: t.n_rows,
    SI: t.metrics.SI,
    si_fwd: t.metrics.si_fwd,
    si_rev: t.metrics.si_rev,
    fix_fwd: t.metrics.fix_fwd,
    broke_fwd: t.metrics.broke_fwd,
    flip_rev: t.metrics.flip_rev,
    counter_rev: t.metrics.counter_rev,
    n_cho: t.metrics.n_cho,
    n_rej: t.metrics.n_rej,
    broke_rate: t.metrics.broke_rate,
    broke_frac_of_rows: t.broke_frac_of_rows,
  }));
}

export function dilemmasSummaryRow(s: CoeffSummary): DilemmasSummaryRow {
  return { ...s };
}

export function iidSummaryRow(s: IidSummary): IidSummaryRow {
  return { ...s };
}

/** study-ref §12 summary row: deltas are mean logratio_honesty at ±1 minus at 0. */
export function ablationSummaryRow(variant: string, m: SiMetrics): AblationSummaryRow {
  return {
    variant,
    SI: m.SI,
    si_fwd: m.si_fwd,
    si_rev: m.si_rev,
    fix_fwd: m.fix_fwd,
    broke_fwd: m.broke_fwd,
    flip_rev: m.flip_rev,
    counter_rev: m.counter_rev,
    lr_at_zero: m.lr_ref,
    delta_pos: m.lr_pos - m.lr_ref,
    delta_neg: m.lr_neg - m.lr_ref,
  };
}

// ---------------------------------------------------------------------------------------------- KL calibration

export function klSummaryRow(method: string, r: CalibrationResult, target: number): KlSummaryRow {
  return {
    method,
    calibrated_alpha: r.calibrated_alpha,
    p95_at_calib: r.p95_at_calib,
    mean_at_calib: r.mean_at_calib,
    max_at_calib: r.max_at_calib,
    ratio_at_calib: r.ratio_at_calib,
    iterations: r.iterations,
    converged: r.converged,
    target_p95: target,
  };
}

/** Sorted by calibrated_alpha ascending, as the reference. */
export function klSummaryTable(rows: readonly KlSummaryRow[]): KlSummaryRow[] {
  return [...rows].sort((a, b) => a.calibrated_alpha - b.calibrated_alpha);
}

export function klNewtonHistoryRows(method: string, r: CalibrationResult): KlNewtonHistoryRow[] {
  return r.history.map((h) => ({ method, iter: h.iter, alpha: h.alpha, mean: h.mean, p50: h.p50, p95: h.p95, p99: h.p99, max: h.max, n: h.n, ratio: h.ratio }));
}

export function klRootHistoryRows(method: string, sign: 'pos' | 'neg', r: CalibrationResult): KlRootHistoryRow[] {
  return r.history.map((h) => ({ method, sign, iter: h.iter, phase: h.phase, alpha: h.alpha, alpha_mag: Math.abs(h.alpha), mean: h.mean, p50: h.p50, p95: h.p95, p99: h.p99, max: h.max, n: h.n, ratio: h.ratio }));
}

export function klPromptRefsRow(method: string, s: KlStats): KlPromptRefsRow {
  return { method, mean: s.mean, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max, n: s.n };
}

/** Audit row: calib_audit_ratio = p95_audit / p95_calib, NaN when p95_calib ≤ 0 (as the reference). */
export function klAuditRow(method: string, alpha: number, calib: Pick<KlStats, 'p95' | 'mean'>, audit: KlStats): KlAuditRow {
  return {
    method,
    alpha,
    p95_calib: calib.p95,
    mean_calib: calib.mean,
    p95_audit: audit.p95,
    mean_audit: audit.mean,
    max_audit: audit.max,
    calib_audit_ratio: calib.p95 > 0 ? audit.p95 / calib.p95 : NaN,
  };
}

export function klSummaryV3Row(method: string, s: SignedCalibration, target: number): KlSummaryV3Row {
  return {
    method,
    alpha_pos: s.alpha_pos,
    alpha_neg: s.alpha_neg,
    calibrated_alpha: s.alpha_pos,
    p95_at_pos: s.pos.p95_at_calib,
    p95_at_neg: s.neg.p95_at_calib,
    mean_at_pos: s.pos.mean_at_calib,
    mean_at_neg: s.neg.mean_at_calib,
    max_at_pos: s.pos.max_at_calib,
    max_at_neg: s.neg.max_at_calib,
    ratio_at_pos: s.pos.ratio_at_calib,
    ratio_at_neg: s.neg.ratio_at_calib,
    iterations_pos: s.pos.iterations,
    iterations_neg: s.neg.iterations,
    converged_pos: s.pos.converged,
    converged_neg: s.neg.converged,
    target_p95: target,
  };
}
