/**
 * The three KL-calibration searches of study-ref §10 as pure algorithms over an injected measurement
 * `measure(alpha) → KlStats` (the stage supplies the model; tests supply curves). All three look at the pooled
 * p95 of per-token KL(steered ‖ base) and return the search history.
 *
 * - v1 "Newton" (§10.1, canonical): α₀ = 1, at most 4 measurements, stop when |M/T − 1| < 0.2, otherwise
 *   α ← α·√(T/M) (α ← 2α when M ≤ 0). The result is the LAST measured point, converged or not.
 * - v2 bracket + Illinois regula falsi in (log α, log p95) (§10.2): start at √(lo·hi), double or halve to bracket,
 *   then up to 12 interpolation steps; absolute tolerance; the closest point seen if it never converges.
 * - v3 (§10.3): v2 run separately for +α and −α (the measurement receives the signed α).
 *
 * Every branch follows the reference code (`ws/eval/kl_calibrate.py@06ec48d8` / `@08efb837`,
 * `ws/kl_calibrate.py@0bc46dc5`), including its quirks: the doubling loop may overshoot `hi` (it runs while
 * c < hi), bracket steps are not checked against the tolerance, and ratio = 1 when the target is ≤ 0 (v1).
 */
import type { KlStats } from './kl-stats.js';

export type MeasureKl = (alpha: number) => Promise<KlStats>;

export type CalibrationPhase = 'newton' | 'mid' | 'bracket' | 'illinois';

export interface CalibrationPoint extends KlStats {
  /** 0-based measurement index */
  iter: number;
  phase: CalibrationPhase;
  /** the α measured (signed for v3's −α search) */
  alpha: number;
  /** p95 / target (1 when target ≤ 0) */
  ratio: number;
}

export interface CalibrationResult {
  /** the chosen α (signed) */
  calibrated_alpha: number;
  p95_at_calib: number;
  mean_at_calib: number;
  max_at_calib: number;
  ratio_at_calib: number;
  /** number of measurements made */
  iterations: number;
  converged: boolean;
  history: CalibrationPoint[];
}

export function klRatio(p95: number, target: number): number {
  return target > 0 ? p95 / target : 1.0;
}

function resultFrom(final: CalibrationPoint, history: CalibrationPoint[], converged: boolean): CalibrationResult {
  return {
    calibrated_alpha: final.alpha,
    p95_at_calib: final.p95,
    mean_at_calib: final.mean,
    max_at_calib: final.max,
    ratio_at_calib: final.ratio,
    iterations: history.length,
    converged,
    history,
  };
}

function checkPositiveFinite(name: string, x: number): void {
  if (!(Number.isFinite(x) && x > 0)) throw new Error(`KL calibration: ${name} must be a positive finite number, got ${x}`);
}

// ---------------------------------------------------------------------------------------------- v1 Newton

export interface NewtonOptions {
  /** target p95 T (v1: the engineered honest prompt's p95 at α = 1) */
  target: number;
  /** α₀ (default 1.0) */
  alphaInit?: number;
  /** maximum number of measurements (default 4) */
  maxIters?: number;
  /** relative band: converged when |M/T − 1| < band (default 0.20) */
  band?: number;
  /** called after each measurement (logging, progress) */
  onPoint?: (p: CalibrationPoint) => void;
}

export async function calibrateNewton(measure: MeasureKl, opts: NewtonOptions): Promise<CalibrationResult> {
  const band = opts.band ?? 0.2;
  const maxIters = opts.maxIters ?? 4;
  let alpha = opts.alphaInit ?? 1.0;
  if (!Number.isFinite(opts.target)) throw new Error(`KL calibration: target must be finite, got ${opts.target}`);
  if (!(Number.isInteger(maxIters) && maxIters >= 1)) throw new Error(`KL calibration: maxIters must be an integer ≥ 1, got ${maxIters}`);
  checkPositiveFinite('alphaInit', alpha);
  const history: CalibrationPoint[] = [];
  for (let k = 0; k < maxIters; k++) {
    const m = await measure(alpha);
    const point: CalibrationPoint = { ...m, iter: k, phase: 'newton', alpha, ratio: klRatio(m.p95, opts.target) };
    history.push(point);
    opts.onPoint?.(point);
    if (Math.abs(point.ratio - 1.0) < band) break;
    // one Newton step for KL ∝ α²: α·√(T/M); M ≤ 0 carries no curvature information, so grow α instead
    if (m.p95 <= 0) {
      alpha *= 2.0;
      continue;
    }
    alpha = alpha * Math.sqrt(opts.target / m.p95);
  }
  const final = history[history.length - 1] as CalibrationPoint;
  return resultFrom(final, history, Math.abs(final.ratio - 1.0) < band);
}

// ---------------------------------------------------------------------------------------------- v2 Illinois

export interface IllinoisOptions {
  /** target p95 (v2: 1.0 nat, v3: 0.5) */
  target: number;
  /** bracket guard (default 0.05) */
  lo?: number;
  /** bracket guard (default 16) */
  hi?: number;
  /** absolute tolerance on |p95 − target| in nats (default 0.05) */
  tol?: number;
  /** maximum regula-falsi steps after bracketing (default 12) */
  maxRootIters?: number;
  /** +1 or −1: the sign applied to the α magnitude before measuring (v3); default +1 */
  sign?: 1 | -1;
  onPoint?: (p: CalibrationPoint) => void;
}

export async function calibrateIllinois(measure: MeasureKl, opts: IllinoisOptions): Promise<CalibrationResult> {
  const target = opts.target;
  const lo = opts.lo ?? 0.05;
  const hi = opts.hi ?? 16.0;
  const tol = opts.tol ?? 0.05;
  const maxRootIters = opts.maxRootIters ?? 12;
  const sign = opts.sign ?? 1;
  checkPositiveFinite('target', target);
  checkPositiveFinite('lo', lo);
  checkPositiveFinite('hi', hi);
  if (!(lo < hi)) throw new Error(`KL calibration: bracket lo (${lo}) must be below hi (${hi})`);
  if (!(Number.isInteger(maxRootIters) && maxRootIters >= 0)) throw new Error(`KL calibration: maxRootIters must be an integer ≥ 0, got ${maxRootIters}`);

  const history: CalibrationPoint[] = [];
  const stat = async (mag: number, phase: CalibrationPhase): Promise<number> => {
    const alpha = sign * mag;
    const m = await measure(alpha);
    const point: CalibrationPoint = { ...m, iter: history.length, phase, alpha, ratio: klRatio(m.p95, target) };
    history.push(point);
    opts.onPoint?.(point);
    return m.p95;
  };
  const last = (): CalibrationPoint => history[history.length - 1] as CalibrationPoint;

  // 1. geometric midpoint of the guard, then an exponential bracket
  const mid = Math.sqrt(lo * hi);
  const vMid = await stat(mid, 'mid');
  if (Math.abs(vMid - target) < tol) return resultFrom(last(), history, true);

  let cLo: number;
  let cHi: number;
  let vLo: number | undefined;
  let vHi: number | undefined;
  if (vMid < target) {
    cLo = mid;
    vLo = vMid;
    cHi = hi;
    vHi = undefined;
    let c = mid;
    while (c < hi) {
      c *= 2.0;
      const v = await stat(c, 'bracket');
      if (v >= target) {
        cHi = c;
        vHi = v;
        break;
      }
      cLo = c;
      vLo = v;
    }
  } else {
    cHi = mid;
    vHi = vMid;
    cLo = lo;
    vLo = undefined;
    let c = mid;
    while (c > lo) {
      c /= 2.0;
      const v = await stat(c, 'bracket');
      if (v <= target) {
        cLo = c;
        vLo = v;
        break;
      }
      cHi = c;
      vHi = v;
    }
  }
  if (vLo === undefined || vHi === undefined) return resultFrom(last(), history, false);

  // 2. Illinois regula falsi in (log c, log v): an endpoint kept for ≥ 2 consecutive updates has its v halved
  const logTarget = Math.log(target);
  const log2 = Math.log(2);
  let staleLo = 0;
  let staleHi = 0;
  let converged = false;
  for (let it = 0; it < maxRootIters; it++) {
    let cNew: number;
    if (vLo > 0 && vHi > 0) {
      const logCLo = Math.log(cLo);
      const logCHi = Math.log(cHi);
      const logVLo = Math.log(vLo) - (staleLo >= 2 ? log2 : 0.0);
      const logVHi = Math.log(vHi) - (staleHi >= 2 ? log2 : 0.0);
      const t = (logTarget - logVLo) / (logVHi - logVLo);
      cNew = Math.exp(logCLo + t * (logCHi - logCLo));
      if (!(cLo < cNew && cNew < cHi)) cNew = Math.sqrt(cLo * cHi);
    } else {
      cNew = Math.sqrt(cLo * cHi);
    }
    const vNew = await stat(cNew, 'illinois');
    if (Math.abs(vNew - target) < tol) {
      converged = true;
      break;
    }
    if (vNew < target) {
      cLo = cNew;
      vLo = vNew;
      staleLo = 0;
      staleHi += 1;
    } else {
      cHi = cNew;
      vHi = vNew;
      staleHi = 0;
      staleLo += 1;
    }
  }
  if (converged) return resultFrom(last(), history, true);
  // the closest point seen (the first of equals, as Python's min)
  let best = history[0] as CalibrationPoint;
  for (const h of history) if (Math.abs(h.p95 - target) < Math.abs(best.p95 - target)) best = h;
  return resultFrom(best, history, false);
}

// ---------------------------------------------------------------------------------------------- v3 both signs

export interface SignedCalibration {
  pos: CalibrationResult;
  neg: CalibrationResult;
  /** |α| of each sign (v3 summary's alpha_pos / alpha_neg) */
  alpha_pos: number;
  alpha_neg: number;
}

/** v3: calibrate +α then −α independently (the measurement receives −|α| for the negative search). */
export async function calibrateIllinoisBothSigns(measure: MeasureKl, opts: Omit<IllinoisOptions, 'sign'>): Promise<SignedCalibration> {
  const pos = await calibrateIllinois(measure, { ...opts, sign: 1 });
  const neg = await calibrateIllinois(measure, { ...opts, sign: -1 });
  return { pos, neg, alpha_pos: Math.abs(pos.calibrated_alpha), alpha_neg: Math.abs(neg.calibrated_alpha) };
}
