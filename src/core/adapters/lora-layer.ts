/**
 * LoRA, DoRA and PiSSA on one linear module (PEFT lora/layer.py Linear, lora/dora.py DoraLinearLayer).
 *
 * LoRA:  y = W x + s·B(A x), s = alpha / r (alpha / √r with rslora); merge W + s·B·A.
 * DoRA:  n = ‖W + s·B·A‖ per output row, recomputed every forward and detached (no gradient, DoRA paper §4.3);
 *        y = (m/n) ⊙ (W x + s·B A x); merge (m/n)[:, None] ⊙ (W + s·B·A).
 *        The forward never forms W + s·B·A: n² = ‖W_o‖² + 2s·(B ⊙ W·Aᵀ)_o·1 + s²·(B·AAᵀ ⊙ B)_o·1, with ‖W_o‖²
 *        taken once from the weight the layer was created on and W·Aᵀ = base(A)ᵀ, so a hooked model never
 *        needs a second [out, in] copy of the base weight.
 * PiSSA: LoRA whose base weight was replaced by the residual; the layer remembers A0/B0 so that the trained
 *        adapter can be saved converted to a plain rank-2r LoRA against the original weight.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead } from '../host-read.js';
import { syncRead } from '../host-read.js';
import type { AdapterLayer, StateTensor } from './adapter-layer.js';
import { stateOf, variableFrom } from './adapter-layer.js';
import { customOp, linearT, matmul } from './tensor-ops.js';

export interface LoraLayerValues {
  module: string;
  inFeatures: number;
  outFeatures: number;
  r: number;
  scaling: number;
  /** [r, in] */
  A: Float32Array;
  /** [out, r] */
  B: Float32Array;
  /** DoRA magnitude [out]; absent for LoRA/PiSSA */
  magnitude?: Float32Array;
  /** DoRA: ‖W_o‖² per output row of the base weight [out] (required with magnitude) */
  weightRowNormSq?: Float32Array;
  /** PiSSA initial factors, kept to convert the trained adapter to plain LoRA on save */
  pissaInitial?: { A0: Float32Array; B0: Float32Array };
}

/** ‖W + s·B·A‖ per row as a constant (no gradient), from ‖W_o‖², base(A) = A·Wᵀ and A, B. */
function detachedRowNorm(base: (x: tf.Tensor2D) => tf.Tensor2D, rowNormSq: tf.Tensor1D, a: tf.Tensor2D, b: tf.Tensor2D, scaling: number): tf.Tensor1D {
  const op = customOp((inputs) => {
    const [av, bv] = inputs as [tf.Tensor2D, tf.Tensor2D];
    const wat = tf.transpose(base(av)); // W·Aᵀ [out, r]
    const cross = tf.sum(tf.mul(bv, wat), 1);
    const quad = tf.sum(tf.mul(tf.matMul(bv, tf.matMul(av, tf.transpose(av))), bv), 1);
    const sq = tf.add(tf.add(rowNormSq, tf.mul(cross, 2 * scaling)), tf.mul(quad, scaling * scaling));
    return {
      value: tf.sqrt(tf.relu(sq)),
      gradFunc: () => [tf.zerosLike(av), tf.zerosLike(bv)],
    };
  });
  return op(a, b) as tf.Tensor1D;
}

export class LoraLayer implements AdapterLayer {
  readonly usesWeight = false;
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly r: number;
  readonly scaling: number;
  readonly A: tf.Variable<tf.Rank.R2>;
  readonly B: tf.Variable<tf.Rank.R2>;
  readonly magnitude: tf.Variable<tf.Rank.R1> | undefined;
  readonly #rowNormSq: tf.Tensor1D | undefined;
  readonly pissaInitial: { A0: Float32Array; B0: Float32Array } | undefined;
  readonly variables: readonly tf.Variable[];

  constructor(v: LoraLayerValues) {
    this.module = v.module;
    this.inFeatures = v.inFeatures;
    this.outFeatures = v.outFeatures;
    this.r = v.r;
    this.scaling = v.scaling;
    this.A = variableFrom(v.A, [v.r, v.inFeatures]) as tf.Variable<tf.Rank.R2>;
    this.B = variableFrom(v.B, [v.outFeatures, v.r]) as tf.Variable<tf.Rank.R2>;
    this.magnitude = v.magnitude !== undefined ? (variableFrom(v.magnitude, [v.outFeatures]) as tf.Variable<tf.Rank.R1>) : undefined;
    if (v.magnitude !== undefined && v.weightRowNormSq === undefined) throw new Error(`${v.module}: DoRA layer needs the base weight's row norms`);
    this.#rowNormSq = v.magnitude !== undefined && v.weightRowNormSq !== undefined ? tf.tensor1d(v.weightRowNormSq) : undefined;
    this.pissaInitial = v.pissaInitial;
    this.variables = this.magnitude !== undefined ? [this.A, this.B, this.magnitude] : [this.A, this.B];
  }

  get isDora(): boolean {
    return this.magnitude !== undefined;
  }

  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, _weight: tf.Tensor2D): tf.Tensor2D {
    const y = base(x);
    // s·(x·Aᵀ)·Bᵀ as (x·Aᵀ)·(s·Bᵀ): the scaling touches r × out numbers instead of tokens × out (the same
    // bits for the usual power-of-two alpha / r, where multiplying by s is exact)
    const lora = matmul(linearT(x, this.A), tf.mul(tf.transpose(this.B), this.scaling) as tf.Tensor2D);
    if (this.magnitude === undefined || this.#rowNormSq === undefined) return tf.add(y, lora) as tf.Tensor2D;
    const norm = detachedRowNorm(base, this.#rowNormSq, this.A, this.B, this.scaling);
    const g = tf.reshape(tf.div(this.magnitude, norm), [1, this.outFeatures]);
    return tf.mul(g, tf.add(y, lora)) as tf.Tensor2D;
  }

  /** s·B·A [out, in] */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.B, this.A), this.scaling) as tf.Tensor2D);
  }

  mergedWeight(weight: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const w: tf.Tensor2D = tf.add(weight, this.deltaWeight());
      if (this.magnitude === undefined) return w;
      const norm = tf.sqrt(tf.sum(tf.square(w), 1));
      return tf.mul(tf.reshape(tf.div(this.magnitude, norm), [this.outFeatures, 1]), w);
    });
  }

  state(read?: HostRead): StateTensor[] {
    const out = [stateOf('lora_A.weight', this.A, read), stateOf('lora_B.weight', this.B, read)];
    if (this.magnitude !== undefined) out.push(stateOf('lora_magnitude_vector', this.magnitude, read));
    return out;
  }

  /**
   * PEFT's path_initial_model_for_weight_conversion: A' = [A; A0] (rows), B' = [B, −B0] (columns), rank 2r,
   * so that s·B'·A' = s·(B·A − B0·A0) applies to the ORIGINAL weight.
   */
  convertedPissaState(read: HostRead = syncRead): StateTensor[] {
    if (this.pissaInitial === undefined) throw new Error(`${this.module}: not a PiSSA layer`);
    const { A0, B0 } = this.pissaInitial;
    const a = read(this.A);
    const b = read(this.B);
    const r = this.r;
    const a2 = new Float32Array(2 * r * this.inFeatures);
    a2.set(a, 0);
    a2.set(A0, r * this.inFeatures);
    const b2 = new Float32Array(this.outFeatures * 2 * r);
    for (let o = 0; o < this.outFeatures; o++) {
      for (let j = 0; j < r; j++) {
        b2[o * 2 * r + j] = b[o * r + j] as number;
        b2[o * 2 * r + r + j] = -(B0[o * r + j] as number);
      }
    }
    return [
      { suffix: 'lora_A.weight', shape: [2 * r, this.inFeatures], data: a2 },
      { suffix: 'lora_B.weight', shape: [this.outFeatures, 2 * r], data: b2 },
    ];
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.#rowNormSq?.dispose();
  }
}
