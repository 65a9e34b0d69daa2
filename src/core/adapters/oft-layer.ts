/**
 * OFT on one linear module (PEFT oft/layer.py OFTRotationModule + Linear).
 *
 * Parameter oft_R [n, b(b−1)/2] (n = number of blocks, or 1 with block_share). Each row fills the strict upper
 * triangle of a b×b matrix row-major (torch.triu_indices order); Q = S − Sᵀ. Q is built as oft_R · P with a
 * constant ±1 selection matrix P (gather has no gradient on wasm).
 * Rotation per block: Cayley–Neumann (PEFT default) R = I + 2Q + 2Q² + … + 2Q^(t−2) + Q^(t−1) for t terms
 * (t = 3 and 4 coincide, as in PEFT), or the exact Cayley R = (I − Q)(I + Q)⁻¹ — the two are transposes of
 * each other in the limit, so the flag is followed exactly.
 * The input is rotated block-wise, x_k ← x_k·R_k, then the frozen layer runs. Merge: W' = W·BD(R)ᵀ.
 * COFT projects each block's Q onto the Frobenius ball of radius eps/√n before every forward (no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead } from '../host-read.js';
import type { AdapterLayer, StateTensor } from './adapter-layer.js';
import { stateOf, variableFrom } from './adapter-layer.js';
import { batchedInverse, matmul } from './tensor-ops.js';

/** PEFT's OFTLayer.adjust_oft_parameters: the divisor of `inFeatures` nearest to `value` (ties to the smaller). */
export function adjustOftParameter(inFeatures: number, value: number): number {
  if (value >= inFeatures) return inFeatures;
  let higher = value;
  while (higher <= inFeatures && inFeatures % higher !== 0) higher++;
  let lower = value;
  while (lower > 1 && inFeatures % lower !== 0) lower--;
  return value - lower <= higher - value ? lower : higher;
}

/** Block size and block count PEFT resolves for a module (OFTLayer.update_layer). */
export function resolveOftBlocks(inFeatures: number, r: number, blockSize: number): { blockSize: number; nBlocks: number; adjusted: boolean } {
  if (r === 0 && blockSize !== 0) {
    let b = blockSize;
    let adjusted = false;
    if (inFeatures % b !== 0 || b > inFeatures) {
      b = adjustOftParameter(inFeatures, b);
      adjusted = true;
    }
    return { blockSize: b, nBlocks: inFeatures / b, adjusted };
  }
  if (r !== 0 && blockSize === 0) {
    let n = r;
    let adjusted = false;
    if (inFeatures % n !== 0 || n > inFeatures) {
      n = adjustOftParameter(inFeatures, n);
      adjusted = true;
    }
    return { blockSize: inFeatures / n, nBlocks: n, adjusted };
  }
  throw new Error(`OFT needs exactly one of r (${r}) and oft_block_size (${blockSize}) non-zero`);
}

/** [K, b*b] with +1 at (k, i·b+j) and −1 at (k, j·b+i) for the k-th upper-triangle pair (i < j). */
function skewSelection(b: number): tf.Tensor2D {
  const k = (b * (b - 1)) / 2;
  const p = new Float32Array(k * b * b);
  let idx = 0;
  for (let i = 0; i < b; i++) {
    for (let j = i + 1; j < b; j++) {
      p[idx * b * b + i * b + j] = 1;
      p[idx * b * b + j * b + i] = -1;
      idx++;
    }
  }
  return tf.tensor2d(p, [k, b * b]);
}

export interface OftLayerValues {
  module: string;
  inFeatures: number;
  outFeatures: number;
  blockSize: number;
  nBlocks: number;
  blockShare: boolean;
  useCayleyNeumann: boolean;
  numCayleyNeumannTerms: number;
  coft: boolean;
  eps: number;
  /** [blockShare ? 1 : nBlocks, b(b−1)/2] */
  R: Float32Array;
}

export class OftLayer implements AdapterLayer {
  readonly usesWeight = false;
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly blockSize: number;
  readonly nBlocks: number;
  readonly blockShare: boolean;
  readonly useCayleyNeumann: boolean;
  readonly numTerms: number;
  readonly coft: boolean;
  readonly eps: number;
  readonly R: tf.Variable<tf.Rank.R2>;
  readonly variables: readonly tf.Variable[];
  readonly #selection: tf.Tensor2D;
  readonly #eye: tf.Tensor3D;

  constructor(v: OftLayerValues) {
    this.module = v.module;
    this.inFeatures = v.inFeatures;
    this.outFeatures = v.outFeatures;
    this.blockSize = v.blockSize;
    this.nBlocks = v.nBlocks;
    this.blockShare = v.blockShare;
    this.useCayleyNeumann = v.useCayleyNeumann;
    this.numTerms = v.numCayleyNeumannTerms;
    this.coft = v.coft;
    this.eps = v.eps;
    const rows = v.blockShare ? 1 : v.nBlocks;
    const k = (v.blockSize * (v.blockSize - 1)) / 2;
    this.R = variableFrom(v.R, [rows, k]) as tf.Variable<tf.Rank.R2>;
    this.variables = [this.R];
    this.#selection = skewSelection(v.blockSize);
    this.#eye = tf.tidy(() => tf.tile(tf.reshape(tf.eye(v.blockSize), [1, v.blockSize, v.blockSize]), [rows, 1, 1]) as tf.Tensor3D);
  }

  /** skew-symmetric Q [rows, b, b] */
  skew(): tf.Tensor3D {
    const b = this.blockSize;
    return tf.reshape(matmul(this.R, this.#selection), [this.R.shape[0], b, b]);
  }

  /** rotation blocks [rows, b, b] */
  rotation(): tf.Tensor3D {
    const q = this.skew();
    if (!this.useCayleyNeumann) {
      return matmul(tf.sub(this.#eye, q), batchedInverse(tf.add(this.#eye, q)));
    }
    const t = this.numTerms;
    let r: tf.Tensor3D = this.#eye;
    if (t > 1) {
      r = tf.add(r, tf.mul(q, 2));
      if (t > 2) {
        const q2 = matmul(q, q);
        r = tf.add(r, tf.mul(q2, 2));
        let power = q2;
        for (let i = 3; i < t - 1; i++) {
          power = matmul(power, q);
          r = tf.add(r, tf.mul(power, 2));
        }
        power = matmul(power, q);
        r = tf.add(r, power);
      }
    }
    return r;
  }

  /** COFT: in-place projection of each block's Q onto ‖Q‖_F ≤ eps/√rows (PEFT `_project_batch`). */
  projectCoft(): void {
    if (!this.coft) return;
    const projected = tf.tidy(() => {
      const rows = this.R.shape[0];
      const eps = this.eps / Math.sqrt(rows);
      // ‖Q_k‖_F = √2 · ‖oft_R[k]‖
      const norm = tf.mul(tf.sqrt(tf.sum(tf.square(this.R), 1, true)), Math.SQRT2);
      const inside = tf.lessEqual(norm, eps);
      return tf.where(tf.tile(inside, [1, this.R.shape[1]]), this.R, tf.mul(tf.div(this.R, norm), eps)) as tf.Tensor2D;
    });
    this.R.assign(projected);
    projected.dispose();
  }

  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, _weight: tf.Tensor2D): tf.Tensor2D {
    this.projectCoft();
    const n = x.shape[0];
    const rot = this.rotation();
    const xb = tf.transpose(tf.reshape(x, [n, this.nBlocks, this.blockSize]), [1, 0, 2]) as tf.Tensor3D;
    const xr = matmul(xb, rot);
    const xRot = tf.reshape(tf.transpose(xr, [1, 0, 2]), [n, this.inFeatures]) as tf.Tensor2D;
    return base(xRot);
  }

  mergedWeight(weight: tf.Tensor2D): tf.Tensor2D {
    this.projectCoft();
    return tf.tidy(() => {
      const rotT = tf.transpose(this.rotation(), [0, 2, 1]) as tf.Tensor3D;
      const wb = tf.transpose(tf.reshape(weight, [this.outFeatures, this.nBlocks, this.blockSize]), [1, 0, 2]) as tf.Tensor3D;
      const merged = tf.matMul(wb, rotT);
      return tf.reshape(tf.transpose(merged, [1, 0, 2]), [this.outFeatures, this.inFeatures]) as tf.Tensor2D;
    });
  }

  state(read?: HostRead): StateTensor[] {
    return [stateOf('oft_R.weight', this.R, read)];
  }

  dispose(): void {
    this.R.dispose();
    this.#selection.dispose();
    this.#eye.dispose();
  }
}
