/**
 * The subspace tests of spec §6 (study-ref §6), weight-only, in float64 on the host (tfjs has no SVD).
 *
 * - SVD-of-W alignment: W = U S Vᵀ (thin), r = min(out, in), k = max(1, round(k_frac·r)); P = Uᵀ·w·V (r×r);
 *   energy_top = ‖P[:k,:k]‖²/‖P‖², energy_bot = ‖P[k:,k:]‖²/‖P‖², null_top = k²/r², ratio_top = energy_top/null_top.
 *   The thin SVD is ml-matrix's (Golub–Kahan, the dependency the repo's PCA and PiSSA code already use): the
 *   bottom of W's spectrum matters here, which a Gram-matrix eigendecomposition would square away.
 * - Weak-readout alignment: the bottom k_weak = max(1, round(weak_frac·r_u)) right singular vectors of the
 *   unembedding [vocab, hidden] (r_u = min(vocab, hidden)); energy_weak = ‖weak·w‖²/‖w‖², null_weak = k_weak/r_u.
 *   The unembedding has a vocabulary's worth of rows, so only its right side is computed: the eigenvectors of the
 *   hidden×hidden Gram matrix UᵀU in float64 (its eigenvalues σ² stay far above float64 rounding for any real
 *   unembedding, so the bottom directions are resolved).
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { pyRound } from '../lib/py-compat.js';

export interface TopAlignment {
  k: number;
  r: number;
  energy_top: number;
  energy_bot: number;
  null_top: number;
  ratio_top: number;
}

function toMatrix(x: Float32Array, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, x[i * cols + j] as number);
  return m;
}

/** SVD-of-W alignment of one dW tensor w with its base weight W, both [rows, cols] row-major. */
export function svdAlignment(W: Float32Array, w: Float32Array, rows: number, cols: number, kFrac: number): TopAlignment {
  if (W.length !== rows * cols || w.length !== rows * cols) throw new Error(`svdAlignment: expected ${rows}×${cols} values, got W ${W.length} and w ${w.length}`);
  const r = Math.min(rows, cols);
  const k = Math.max(1, pyRound(kFrac * r));
  const svd = new SingularValueDecomposition(toMatrix(W, rows, cols), { computeLeftSingularVectors: true, computeRightSingularVectors: true, autoTranspose: true });
  // ml-matrix returns the singular values descending; U [rows, r], V [cols, r]
  const U = svd.leftSingularVectors.subMatrix(0, rows - 1, 0, r - 1);
  const V = svd.rightSingularVectors.subMatrix(0, cols - 1, 0, r - 1);
  const P = U.transpose().mmul(toMatrix(w, rows, cols).mmul(V));
  let total = 0;
  let top = 0;
  let bot = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      const p2 = P.get(i, j) ** 2;
      total += p2;
      if (i < k && j < k) top += p2;
      else if (i >= k && j >= k) bot += p2;
    }
  }
  const nullTop = (k * k) / (r * r);
  const energyTop = top / total;
  return { k, r, energy_top: energyTop, energy_bot: bot / total, null_top: nullTop, ratio_top: energyTop / nullTop };
}

export interface WeakBasis {
  /** [k_weak, hidden] row-major: the unembedding's least-read residual directions */
  basis: Float64Array;
  kWeak: number;
  /** min(vocab, hidden) */
  r: number;
  hidden: number;
}

/** The bottom right singular vectors of the unembedding E [vocab, hidden]. */
export function weakReadoutBasis(E: Float32Array, vocab: number, hidden: number, weakFrac: number): WeakBasis {
  if (E.length !== vocab * hidden) throw new Error(`weakReadoutBasis: expected ${vocab}×${hidden} values, got ${E.length}`);
  const g = new Float64Array(hidden * hidden);
  for (let v = 0; v < vocab; v++) {
    const off = v * hidden;
    for (let i = 0; i < hidden; i++) {
      const ei = E[off + i] as number;
      if (ei === 0) continue;
      const gi = i * hidden;
      for (let j = i; j < hidden; j++) g[gi + j] = (g[gi + j] as number) + ei * (E[off + j] as number);
    }
  }
  const G = new Matrix(hidden, hidden);
  for (let i = 0; i < hidden; i++) {
    for (let j = i; j < hidden; j++) {
      G.set(i, j, g[i * hidden + j] as number);
      G.set(j, i, g[i * hidden + j] as number);
    }
  }
  const evd = new EigenvalueDecomposition(G, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  // rank the directions by σ² descending; the thin SVD keeps the top r of them, the weak basis is its tail
  const order = values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
  const r = Math.min(vocab, hidden);
  const kWeak = Math.max(1, pyRound(weakFrac * r));
  const basis = new Float64Array(kWeak * hidden);
  for (let b = 0; b < kWeak; b++) {
    const col = order[r - kWeak + b] as number;
    for (let i = 0; i < hidden; i++) basis[b * hidden + i] = vectors.get(i, col);
  }
  return { basis, kWeak, r, hidden };
}

export interface WeakAlignment {
  energy_weak: number;
  null_weak: number;
  ratio_weak: number;
}

/** Weak-readout alignment of a residual-writing dW tensor w [hidden, cols]. */
export function weakAlignment(weak: WeakBasis, w: Float32Array, rows: number, cols: number): WeakAlignment {
  if (rows !== weak.hidden) throw new Error(`weakAlignment: w has ${rows} output rows but the residual width is ${weak.hidden}`);
  let total = 0;
  for (let i = 0; i < w.length; i++) total += (w[i] as number) ** 2;
  let proj = 0;
  const acc = new Float64Array(cols);
  for (let b = 0; b < weak.kWeak; b++) {
    acc.fill(0);
    for (let i = 0; i < rows; i++) {
      const c = weak.basis[b * weak.hidden + i] as number;
      const off = i * cols;
      for (let j = 0; j < cols; j++) acc[j] = (acc[j] as number) + c * (w[off + j] as number);
    }
    for (let j = 0; j < cols; j++) proj += (acc[j] as number) ** 2;
  }
  const nullWeak = weak.kWeak / weak.r;
  const energy = proj / total;
  return { energy_weak: energy, null_weak: nullWeak, ratio_weak: energy / nullWeak };
}
