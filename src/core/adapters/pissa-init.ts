/**
 * PiSSA initialisation (PEFT `LoraLayer.pissa_init`), in float64 on the host because tfjs has no SVD.
 *
 * With W [out, in] = U Σ Vᵀ and s = lora_alpha / r: A = diag(√(Σ_r/s)) · Vᵀ_r [r, in], B = U_r · diag(√(Σ_r/s))
 * [out, r], so s·B·A = U_r Σ_r Vᵀ_r, and the base weight becomes the residual W − s·B·A.
 *
 * "pissa": the exact top-r singular triplets, from the symmetric eigendecomposition of the smaller Gram matrix
 * (WᵀW or WWᵀ, float64; accurate for the well-separated top of the spectrum PiSSA keeps): LAPACK in the native
 * addon when it is built (src/core/native/native-svd.ts, seconds for a 0.6B model), else the same method in
 * JavaScript (ml-matrix; about 14 s per 1024 × 3072 matrix). Singular-vector signs
 * are a convention (the largest-magnitude entry of each right singular vector is made positive); B·A and the
 * residual do not depend on them.
 * "pissa_niter_K": torch.svd_lowrank's randomised range finder with K power iterations, seeded from our Rng
 * (approximate and random, as in PEFT).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '../random.js';
import { nativeTopSvd } from '../native/native-svd.js';

export interface PissaInit {
  /** [r, in] */
  A: Float32Array;
  /** [out, r] */
  B: Float32Array;
  /** W − s·B·A [out, in], rounded to float32 */
  residual: Float32Array;
  /** the r singular values used (descending) */
  singularValues: number[];
}

export type PissaMethod = { kind: 'exact' } | { kind: 'lowrank'; niter: number; rng: Rng };

/** Who computes the exact SVD: `auto` = the native addon's LAPACK when available, else JavaScript. */
export type SvdEngine = 'auto' | 'js' | 'lapack';

export function pissaMethodOf(initLoraWeights: string, rng: Rng): PissaMethod {
  if (initLoraWeights === 'pissa') return { kind: 'exact' };
  const m = /^pissa_niter_(\d+)$/.exec(initLoraWeights);
  if (m?.[1] === undefined) throw new Error(`not a PiSSA init_lora_weights value: "${initLoraWeights}"`);
  return { kind: 'lowrank', niter: parseInt(m[1], 10), rng };
}

interface Svd {
  /** [rows, k] column-major-free: u[i*k + j] */
  u: Float64Array;
  s: number[];
  /** [cols, k]: v[i*k + j] */
  v: Float64Array;
}

/**
 * Top-k SVD of a [rows, cols] float64 matrix through the eigendecomposition of the smaller Gram matrix, signs
 * normalised. `lapack` throws when the addon cannot run it.
 */
export function topSvd(w: Float64Array, rows: number, cols: number, k: number, engine: SvdEngine = 'auto'): Svd {
  if (k > Math.min(rows, cols)) throw new Error(`rank ${k} exceeds min(out, in) = ${Math.min(rows, cols)}`);
  const fast = engine === 'js' ? undefined : nativeTopSvd(w, rows, cols, k);
  if (fast === undefined && engine === 'lapack') throw new Error('the native addon with topSvd is not available (npm run build:native)');
  const svd = fast ?? jsTopSvd(w, rows, cols, k);
  normaliseSigns(svd, rows, cols, k);
  return svd;
}

/** Sign convention: the largest-magnitude entry of each right singular vector is positive (first one on ties). */
function normaliseSigns({ u, v }: Svd, rows: number, cols: number, k: number): void {
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let c = 0; c < cols; c++) if (Math.abs(v[c * k + j] as number) > Math.abs(best)) best = v[c * k + j] as number;
    if (best < 0) {
      for (let c = 0; c < cols; c++) v[c * k + j] = -(v[c * k + j] as number);
      for (let r = 0; r < rows; r++) u[r * k + j] = -(u[r * k + j] as number);
    }
  }
}

function jsTopSvd(w: Float64Array, rows: number, cols: number, k: number): Svd {
  const useRight = rows >= cols; // Gram over the smaller side
  const n = useRight ? cols : rows;
  const g = new Float64Array(n * n);
  if (useRight) {
    // G = WᵀW: accumulate the upper triangle row by row of W
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      for (let i = 0; i < cols; i++) {
        const wi = w[off + i] as number;
        if (wi === 0) continue;
        const gi = i * n;
        for (let j = i; j < cols; j++) g[gi + j] = (g[gi + j] as number) + wi * (w[off + j] as number);
      }
    }
  } else {
    // G = WWᵀ
    for (let i = 0; i < rows; i++) {
      const oi = i * cols;
      for (let j = i; j < rows; j++) {
        const oj = j * cols;
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += (w[oi + c] as number) * (w[oj + c] as number);
        g[i * n + j] = acc;
      }
    }
  }
  const rowsArr: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = i <= j ? (g[i * n + j] as number) : (g[j * n + i] as number);
    rowsArr.push(row);
  }
  const evd = new EigenvalueDecomposition(new Matrix(rowsArr), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map((p) => p[1]);
  const s = order.map((i) => Math.sqrt(Math.max(values[i] as number, 0)));
  const u = new Float64Array(rows * k);
  const v = new Float64Array(cols * k);
  order.forEach((ei, j) => {
    const sigma = s[j] as number;
    if (useRight) {
      for (let c = 0; c < cols; c++) v[c * k + j] = vecs.get(c, ei);
      // u_j = W v_j / σ_j
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += (w[r * cols + c] as number) * (v[c * k + j] as number);
        u[r * k + j] = sigma > 0 ? acc / sigma : 0;
      }
    } else {
      for (let r = 0; r < rows; r++) u[r * k + j] = vecs.get(r, ei);
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = 0; r < rows; r++) acc += (w[r * cols + c] as number) * (u[r * k + j] as number);
        v[c * k + j] = sigma > 0 ? acc / sigma : 0;
      }
    }
  });
  return { u, s, v };
}

/** Orthonormalise the k columns of a [rows, k] matrix in place (modified Gram–Schmidt, applied twice). */
function orthonormalColumns(x: Float64Array, rows: number, k: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < k; j++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += (x[r * k + j] as number) * (x[r * k + p] as number);
        for (let r = 0; r < rows; r++) x[r * k + j] = (x[r * k + j] as number) - dot * (x[r * k + p] as number);
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += (x[r * k + j] as number) ** 2;
      norm = Math.sqrt(norm);
      for (let r = 0; r < rows; r++) x[r * k + j] = norm > 0 ? (x[r * k + j] as number) / norm : 0;
    }
  }
}

/** torch.svd_lowrank(W, q=k, niter): randomised range finder, then the exact SVD of the small projection. */
function lowRankSvd(w: Float64Array, rows: number, cols: number, k: number, niter: number, rng: Rng, engine: SvdEngine): Svd {
  // X = W·R, R ~ N(0, 1) [cols, k]
  const rmat = Float64Array.from(rng.normalArray(cols * k));
  const mulW = (m: Float64Array): Float64Array => {
    const out = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const wv = w[r * cols + c] as number;
        if (wv === 0) continue;
        for (let j = 0; j < k; j++) out[r * k + j] = (out[r * k + j] as number) + wv * (m[c * k + j] as number);
      }
    }
    return out;
  };
  const mulWt = (m: Float64Array): Float64Array => {
    const out = new Float64Array(cols * k);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const wv = w[r * cols + c] as number;
        if (wv === 0) continue;
        for (let j = 0; j < k; j++) out[c * k + j] = (out[c * k + j] as number) + wv * (m[r * k + j] as number);
      }
    }
    return out;
  };
  let q = mulW(rmat);
  orthonormalColumns(q, rows, k);
  for (let i = 0; i < niter; i++) {
    const z = mulWt(q);
    orthonormalColumns(z, cols, k);
    q = mulW(z);
    orthonormalColumns(q, rows, k);
  }
  // B = Qᵀ W [k, cols]; its SVD gives W ≈ (Q U_B) Σ Vᵀ
  const b = new Float64Array(k * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const qv = q[r * k + j] as number;
      if (qv === 0) continue;
      for (let c = 0; c < cols; c++) b[j * cols + c] = (b[j * cols + c] as number) + qv * (w[r * cols + c] as number);
    }
  }
  const small = topSvd(b, k, cols, k, engine);
  const u = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += (q[r * k + p] as number) * (small.u[p * k + j] as number);
      u[r * k + j] = acc;
    }
  }
  return { u, s: small.s, v: small.v };
}

/** PiSSA's A, B and residual weight for W [out, in] (float32 values), rank r and scaling s. */
export function pissaInit(
  weight: Float32Array, out: number, inF: number, r: number, scaling: number, method: PissaMethod, engine: SvdEngine = 'auto',
): PissaInit {
  if (weight.length !== out * inF) throw new Error(`weight has ${weight.length} values, expected ${out}×${inF}`);
  const w = Float64Array.from(weight);
  const svd = method.kind === 'exact' ? topSvd(w, out, inF, r, engine) : lowRankSvd(w, out, inF, r, method.niter, method.rng, engine);
  const A = new Float32Array(r * inF);
  const B = new Float32Array(out * r);
  for (let j = 0; j < r; j++) {
    const root = Math.sqrt((svd.s[j] as number) / scaling);
    for (let c = 0; c < inF; c++) A[j * inF + c] = root * (svd.v[c * r + j] as number);
    for (let o = 0; o < out; o++) B[o * r + j] = (svd.u[o * r + j] as number) * root;
  }
  // residual from the float32 A and B actually stored, so that W_res + s·B·A reproduces W to rounding
  const residual = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < inF; c++) {
      let acc = 0;
      for (let j = 0; j < r; j++) acc += (B[o * r + j] as number) * (A[j * inF + c] as number);
      residual[o * inF + c] = (w[o * inF + c] as number) - scaling * acc;
    }
  }
  return { A, B, residual, singularValues: svd.s };
}
