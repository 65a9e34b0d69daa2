/**
 * DeLoRA on one linear module (PEFT delora/layer.py DeloraLinear).
 *
 * ‖A_i‖ = row norms of A, ‖B_i‖ = column norms of B, each clamped to at least 1e-4 (NaN-safe gradient:
 * B is zero at init). Per-rank scale c_i = λ / r / (‖A_i‖·‖B_i‖).
 * Forward: h = (x ⊙ w_norm)·Aᵀ; y = W x + (h ⊙ c)·Bᵀ. Merge: W + (B·diag(c)·A) ⊙ w_norm[None, :].
 * w_norm (column L2 norms of the base weight when the adapter was created) is a saved buffer, not trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead } from '../host-read.js';
import { readAndDispose, runSync } from '../host-read.js';
import type { AdapterLayer, StateTensor } from './adapter-layer.js';
import { stateOf, variableFrom } from './adapter-layer.js';
import { clampedNorm, linearT, matmul } from './tensor-ops.js';

export const DELORA_NORM_MIN = 1e-4;

export interface DeloraLayerValues {
  module: string;
  inFeatures: number;
  outFeatures: number;
  r: number;
  /** [r, in] */
  A: Float32Array;
  /** [out, r] */
  B: Float32Array;
  /** [1] */
  lambda: Float32Array;
  /** [in] */
  wNorm: Float32Array;
}

export class DeloraLayer implements AdapterLayer {
  readonly usesWeight = false;
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly r: number;
  readonly A: tf.Variable<tf.Rank.R2>;
  readonly B: tf.Variable<tf.Rank.R2>;
  readonly lambda: tf.Variable<tf.Rank.R1>;
  readonly wNorm: tf.Tensor1D;
  readonly variables: readonly tf.Variable[];

  constructor(v: DeloraLayerValues) {
    this.module = v.module;
    this.inFeatures = v.inFeatures;
    this.outFeatures = v.outFeatures;
    this.r = v.r;
    this.A = variableFrom(v.A, [v.r, v.inFeatures]) as tf.Variable<tf.Rank.R2>;
    this.B = variableFrom(v.B, [v.outFeatures, v.r]) as tf.Variable<tf.Rank.R2>;
    this.lambda = variableFrom(v.lambda, [1]) as tf.Variable<tf.Rank.R1>;
    this.wNorm = tf.tensor1d(v.wNorm);
    this.variables = [this.A, this.B, this.lambda];
  }

  /** c_i = λ / r / (‖A_i‖·‖B_i‖), differentiable in A, B and λ */
  rankScale(): tf.Tensor1D {
    const an = clampedNorm(this.A, 1, DELORA_NORM_MIN);
    const bn = clampedNorm(this.B, 0, DELORA_NORM_MIN);
    return tf.div(tf.div(this.lambda, this.r), tf.mul(an, bn));
  }

  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, _weight: tf.Tensor2D): tf.Tensor2D {
    const y = base(x);
    // x·diag(w)·Aᵀ as x·(A·diag(w))ᵀ: the norm scales r × in numbers instead of tokens × in
    const h = tf.mul(linearT(x, tf.mul(this.A, tf.reshape(this.wNorm, [1, this.inFeatures])) as tf.Tensor2D), this.rankScale());
    return tf.add(y, matmul(h as tf.Tensor2D, tf.transpose(this.B)));
  }

  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => {
      const scaledA = tf.mul(this.A, tf.reshape(this.rankScale(), [this.r, 1]));
      return tf.mul(tf.matMul(this.B, scaledA as tf.Tensor2D), tf.reshape(this.wNorm, [1, this.inFeatures]));
    });
  }

  mergedWeight(weight: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(weight, this.deltaWeight()));
  }

  state(read?: HostRead): StateTensor[] {
    return [stateOf('delora_A', this.A, read), stateOf('delora_B', this.B, read), stateOf('delora_lambda', this.lambda, read), stateOf('delora_w_norm', this.wNorm, read)];
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.wNorm.dispose();
  }
}

/** Column L2 norms ‖W[:, j]‖ of a [out, in] weight (what DeLoRA captures at creation); the caller disposes them. */
export function columnNormsOf(weight: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(weight), 0)) as tf.Tensor1D);
}

/** columnNormsOf, read back (synchronously: not on webgpu). */
export function columnNorms(weight: tf.Tensor2D): Float32Array {
  return runSync(readAndDispose(columnNormsOf(weight)));
}
