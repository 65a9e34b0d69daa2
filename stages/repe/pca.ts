/**
 * PCA(1) of per-prompt hidden-state differences (study-ref §7.1, repeng's `pca_diff`): centre the P difference rows,
 * take the first right singular vector (unit norm), then orient it so the positive persona projects higher on
 * average. Computed through the P×P Gram matrix (P is tens of prompts, D a thousand dims), in float64.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface Pca1 {
  /** unit vector of length D */
  direction: Float64Array;
  /** share of the centred variance along it */
  explained: number;
  /** true when the sign was flipped so that mean(pos·d) ≥ mean(neg·d) */
  flipped: boolean;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** PCA(1) of pos − neg over prompts; `layer` is only for messages. */
export function pcaDirection(pos: readonly Float64Array[], neg: readonly Float64Array[], layer: number): Pca1 {
  const P = pos.length;
  if (P !== neg.length) throw new Error(`RepE layer ${layer}: ${P} positive but ${neg.length} negative hidden states`);
  if (P < 2) throw new Error(`RepE needs at least 2 prompts: centring a single difference leaves nothing (n_train_topics = ${P})`);
  const D = (pos[0] as Float64Array).length;
  const diffs = pos.map((p, i) => {
    const n = neg[i] as Float64Array;
    const d = new Float64Array(D);
    for (let j = 0; j < D; j++) d[j] = (p[j] as number) - (n[j] as number);
    return d;
  });
  const mu = new Float64Array(D);
  for (const d of diffs) for (let j = 0; j < D; j++) mu[j] = (mu[j] as number) + (d[j] as number) / P;
  for (const d of diffs) for (let j = 0; j < D; j++) d[j] = (d[j] as number) - (mu[j] as number);
  const gram = new Matrix(P, P);
  for (let a = 0; a < P; a++) for (let b = a; b < P; b++) {
    const v = dot(diffs[a] as Float64Array, diffs[b] as Float64Array);
    gram.set(a, b, v);
    gram.set(b, a, v);
  }
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  let top = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[top] as number)) top = i;
  const trace = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const u = evd.eigenvectorMatrix.getColumn(top);
  const dir = new Float64Array(D);
  diffs.forEach((d, i) => {
    const w = u[i] as number;
    for (let j = 0; j < D; j++) dir[j] = (dir[j] as number) + w * (d[j] as number);
  });
  const norm = Math.sqrt(dot(dir, dir));
  if (!(norm > 0) || !(trace > 0)) throw new Error(`RepE layer ${layer}: the centred hidden-state differences are all zero (the prompts do not separate the personas)`);
  for (let j = 0; j < D; j++) dir[j] = (dir[j] as number) / norm;
  const meanProj = (hs: readonly Float64Array[]): number => hs.reduce((s, h) => s + dot(h, dir), 0) / hs.length;
  const flipped = meanProj(pos) < meanProj(neg);
  if (flipped) for (let j = 0; j < D; j++) dir[j] = -(dir[j] as number);
  return { direction: dir, explained: (values[top] as number) / trace, flipped };
}
