/**
 * Weight-diff operations on float32 tensors keyed by parameter name (study-ref §4, §12): τ = merged − base, the steering
 * vector dW = τ+ − τ− (or the bisector), the §4.2 diagnostics, per-tensor norms, the DeLoRA ablation variants, and a
 * bf16 rounding helper for `merge_dtype: bf16`.
 *
 * Element-wise results are float32 (each value rounded once from the exact float64 result, which equals torch's
 * fp32 arithmetic for +, −, ×, ÷). Norms and inner products are accumulated in float64: more exact than torch's
 * fp32 reductions, so they agree to float32 precision, not bit for bit.
 */
import { bf16ToFloat32, float32ToBf16 } from '../../src/core/safetensors.js';
import { Rng } from '../../src/core/random.js';

export type TensorMap = ReadonlyMap<string, Float32Array>;

export function sumSquares(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    s += v * v;
  }
  return s;
}

export function frobeniusNorm(x: Float32Array): number {
  return Math.sqrt(sumSquares(x));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Round float32 values to bf16 (round-to-nearest-even, as torch's .to(bfloat16)) and back to float32. */
export function roundToBf16(x: Float32Array): Float32Array {
  return bf16ToFloat32(float32ToBf16(x));
}

export type MergeDtype = 'f32' | 'bf16';

/**
 * τ for one tensor (§4.1): merged − base. With `bf16` (the reference's merge dtype), both weights are taken as
 * bf16 and the difference is rounded to bf16 again, as `(merged − base).to(bf16)` on bf16 tensors does.
 */
export function tauTensor(name: string, merged: Float32Array, base: Float32Array, dtype: MergeDtype = 'f32'): Float32Array {
  if (merged.length !== base.length) throw new Error(`τ ${name}: merged has ${merged.length} elements, base ${base.length}`);
  if (dtype === 'f32') {
    const out = new Float32Array(merged.length);
    for (let i = 0; i < out.length; i++) out[i] = (merged[i] as number) - (base[i] as number);
    return out;
  }
  const m = roundToBf16(merged);
  const b = roundToBf16(base);
  const d = new Float32Array(m.length);
  for (let i = 0; i < d.length; i++) d[i] = (m[i] as number) - (b[i] as number);
  return roundToBf16(d);
}

/** Keep only tensors the adapter touched: those with Σ|d| > 0 (§4.1). */
export function keepTouched(tau: TensorMap): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of tau) {
    let touched = false;
    for (let i = 0; i < v.length && !touched; i++) touched = v[i] !== 0 && !Number.isNaN(v[i]);
    if (touched) out.set(k, v);
  }
  return out;
}

function sharedKeys(tauPos: TensorMap, tauNeg: TensorMap): string[] {
  const keys = [...tauPos.keys()].filter((k) => tauNeg.has(k));
  for (const k of keys) {
    const a = tauPos.get(k) as Float32Array;
    const b = tauNeg.get(k) as Float32Array;
    if (a.length !== b.length) throw new Error(`tensor ${k}: τ+ has ${a.length} elements but τ− has ${b.length}`);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------- diagnostics (§4.2)

export interface DiffDiagnostics {
  n_keys: number;
  n_params: number;
  /** ‖τ+‖ and ‖τ−‖ over the shared keys */
  norm_tau_pos: number;
  norm_tau_neg: number;
  /** −⟨τ+, τ−⟩ / (‖τ+‖‖τ−‖) */
  cos_anti: number;
  /** ‖τ+‖ / ‖τ−‖ */
  asymmetry: number;
  /** ‖τ+ − τ−‖ = √(p² − 2pn + n²) (clamped at 0 against rounding) */
  norm_dW: number;
  /** ‖(τ+ + τ−)/2‖ */
  norm_M: number;
  /** ‖M‖ / (‖dW‖/2) */
  drift_ratio: number;
  /** |(p² − n²)/2| / (‖dW‖‖M‖) = |cos(dW, M)| */
  cos_dW_M: number;
}

/** §4.2 diagnostics from global sums over the shared keys. Zero norms give NaN/∞ ratios, as plain division does. */
export function diffDiagnostics(tauPos: TensorMap, tauNeg: TensorMap): DiffDiagnostics {
  const keys = sharedKeys(tauPos, tauNeg);
  let p2 = 0;
  let n2 = 0;
  let pn = 0;
  let nParams = 0;
  for (const k of keys) {
    const a = tauPos.get(k) as Float32Array;
    const b = tauNeg.get(k) as Float32Array;
    p2 += sumSquares(a);
    n2 += sumSquares(b);
    pn += dot(a, b);
    nParams += a.length;
  }
  const p = Math.sqrt(p2);
  const n = Math.sqrt(n2);
  const normDW = Math.sqrt(Math.max(0, p2 - 2 * pn + n2));
  const normM = Math.sqrt(Math.max(0, (p2 + 2 * pn + n2) / 4));
  return {
    n_keys: keys.length,
    n_params: nParams,
    norm_tau_pos: p,
    norm_tau_neg: n,
    cos_anti: -pn / (p * n),
    asymmetry: p / n,
    norm_dW: normDW,
    norm_M: normM,
    drift_ratio: normM / (normDW / 2),
    cos_dW_M: Math.abs((p2 - n2) / 2) / (normDW * normM),
  };
}

// ---------------------------------------------------------------------------------------------- dW (§4.2)

export type DiffMode = 'dw' | 'bisector';

export interface DiffResult {
  /** in τ+'s key order */
  dw: Map<string, Float32Array>;
  diagnostics: DiffDiagnostics;
  /** global ‖dW‖ of the result */
  norm: number;
  /** keys of only one side, for the log */
  onlyPos: string[];
  onlyNeg: string[];
  warnings: string[];
}

/**
 * dW over keys(τ+) ∩ keys(τ−): `dw` mode is τ+ − τ− (paper eq. 1, no normalisation); `bisector` is
 * τ+/‖τ+‖ − τ−/‖τ−‖ rescaled to the global norm of τ+ − τ−. No shared key is an error (an empty dW would make every
 * downstream evaluation a silent no-op); a zero dW is returned with a warning.
 */
export function computeDiff(tauPos: TensorMap, tauNeg: TensorMap, mode: DiffMode = 'dw'): DiffResult {
  const keys = sharedKeys(tauPos, tauNeg);
  const onlyPos = [...tauPos.keys()].filter((k) => !tauNeg.has(k));
  const onlyNeg = [...tauNeg.keys()].filter((k) => !tauPos.has(k));
  if (keys.length === 0) {
    throw new Error(`no tensor is touched by both adapters: τ+ has ${tauPos.size} tensor(s), τ− has ${tauNeg.size}${tauPos.size + tauNeg.size > 0 ? ` (e.g. ${[...tauPos.keys(), ...tauNeg.keys()][0]})` : ''}; too few training steps or a near-no-op adapter`);
  }
  const diagnostics = diffDiagnostics(tauPos, tauNeg);
  const dw = new Map<string, Float32Array>();
  const warnings: string[] = [];
  if (mode === 'dw') {
    for (const k of keys) {
      const a = tauPos.get(k) as Float32Array;
      const b = tauNeg.get(k) as Float32Array;
      const out = new Float32Array(a.length);
      for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) - (b[i] as number);
      dw.set(k, out);
    }
  } else {
    const p = diagnostics.norm_tau_pos;
    const n = diagnostics.norm_tau_neg;
    if (!(p > 0 && n > 0)) throw new Error(`bisector mode needs both τ+ and τ− non-zero (‖τ+‖ = ${p}, ‖τ−‖ = ${n})`);
    let rawSq = 0;
    const raw = new Map<string, Float64Array>();
    for (const k of keys) {
      const a = tauPos.get(k) as Float32Array;
      const b = tauNeg.get(k) as Float32Array;
      const r = new Float64Array(a.length);
      for (let i = 0; i < r.length; i++) {
        r[i] = (a[i] as number) / p - (b[i] as number) / n;
        rawSq += (r[i] as number) * (r[i] as number);
      }
      raw.set(k, r);
    }
    const scale = rawSq > 0 ? diagnostics.norm_dW / Math.sqrt(rawSq) : 0;
    for (const k of keys) dw.set(k, Float32Array.from(raw.get(k) as Float64Array, (v) => v * scale));
  }
  let norm2 = 0;
  for (const v of dw.values()) norm2 += sumSquares(v);
  const norm = Math.sqrt(norm2);
  if (norm === 0) warnings.push(`‖dW‖ = 0 over ${keys.length} shared tensor(s): τ+ and τ− are identical, steering with this dW does nothing`);
  if (onlyPos.length + onlyNeg.length > 0) warnings.push(`${onlyPos.length} tensor(s) only in τ+ and ${onlyNeg.length} only in τ− are left out of dW`);
  return { dw, diagnostics, norm, onlyPos, onlyNeg, warnings };
}

// ---------------------------------------------------------------------------------------------- per-tensor norms

export interface TensorNameParts {
  /** −1 when the name has no `.layers.<i>.` */
  layer: number;
  /** e.g. "q_proj", "down_proj"; the segment before the final ".weight"/".bias", else the last segment */
  module: string;
}

export function parseTensorName(name: string): TensorNameParts {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(name);
  const parts = name.split('.');
  const last = parts[parts.length - 1] as string;
  const module = (last === 'weight' || last === 'bias') && parts.length >= 2 ? (parts[parts.length - 2] as string) : last;
  return { layer: m ? Number(m[1]) : -1, module };
}

export interface TensorNormRow {
  name: string;
  layer: number;
  module: string;
  norm_tau_pos: number;
  norm_tau_neg: number;
  norm_dw: number;
}

/** One row per tensor of dW (in its key order), with the norms of the matching τ+ and τ− tensors. */
export function perTensorNorms(tauPos: TensorMap, tauNeg: TensorMap, dw: TensorMap): TensorNormRow[] {
  return [...dw.entries()].map(([name, w]) => {
    const a = tauPos.get(name);
    const b = tauNeg.get(name);
    if (a === undefined || b === undefined) throw new Error(`per-tensor norms: ${name} is in dW but not in ${a === undefined ? 'τ+' : 'τ−'}`);
    return { name, ...parseTensorName(name), norm_tau_pos: frobeniusNorm(a), norm_tau_neg: frobeniusNorm(b), norm_dw: frobeniusNorm(w) };
  });
}

// ---------------------------------------------------------------------------------------------- DeLoRA ablation (§12)

export interface AblationSet {
  full: Map<string, Float32Array>;
  dir_only: Map<string, Float32Array>;
  mag_only: Map<string, Float32Array>;
  random_norm: Map<string, Float32Array>;
  /** the common per-tensor norm c = √(Σ n_k² / N) */
  common_norm: number;
  /** n_k per tensor, key order */
  norms: Map<string, number>;
}

function scaled(x: Float32Array | Float64Array, factor: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * factor;
  return out;
}

/**
 * The four §12 variants of dW. Gaussian draws come from one seeded generator (src/core/random.ts) in the stated
 * order: every `mag_only` tensor in key order, then every `random_norm` tensor. torch's CPU generator cannot be
 * reproduced here, so the random variants match the reference in distribution, not in bits. Every variant except
 * `full`/`mag_only` has the same global norm as w (each tensor has norm c); `mag_only` keeps each n_k.
 */
export function ablationVariants(w: TensorMap, seed = 0): AblationSet {
  if (w.size === 0) throw new Error('ablation: dW has no tensors');
  const norms = new Map<string, number>();
  let sumSq = 0;
  for (const [k, v] of w) {
    const nk = frobeniusNorm(v);
    norms.set(k, nk);
    sumSq += nk * nk;
  }
  const c = Math.sqrt(sumSq / w.size);
  const rng = new Rng(seed);
  const full = new Map<string, Float32Array>();
  const dirOnly = new Map<string, Float32Array>();
  const magOnly = new Map<string, Float32Array>();
  const randomNorm = new Map<string, Float32Array>();
  for (const [k, v] of w) {
    full.set(k, Float32Array.from(v));
    const nk = norms.get(k) as number;
    dirOnly.set(k, nk === 0 ? Float32Array.from(v) : scaled(v, c / nk));
  }
  for (const [k, v] of w) {
    const g = rng.normalArray(v.length);
    magOnly.set(k, scaled(g, (norms.get(k) as number) / frobeniusNorm(g)));
  }
  for (const [k, v] of w) {
    const g = rng.normalArray(v.length);
    randomNorm.set(k, scaled(g, c / frobeniusNorm(g)));
  }
  return { full, dir_only: dirOnly, mag_only: magOnly, random_norm: randomNorm, common_norm: c, norms };
}
