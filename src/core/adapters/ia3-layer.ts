/**
 * IA3 on one linear module (PEFT ia3/layer.py Linear).
 *
 * ia3_l scales the OUTPUT of ordinary modules (shape [out, 1]: y = (W x) ⊙ l, merge W ⊙ l row-wise) and the
 * INPUT of feedforward modules (shape [1, in]: y = W (x ⊙ l), merge W ⊙ l column-wise).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead } from '../host-read.js';
import type { AdapterLayer, StateTensor } from './adapter-layer.js';
import { stateOf, variableFrom } from './adapter-layer.js';

export interface Ia3LayerValues {
  module: string;
  inFeatures: number;
  outFeatures: number;
  feedforward: boolean;
  /** [out, 1], or [1, in] when feedforward */
  l: Float32Array;
}

export class Ia3Layer implements AdapterLayer {
  readonly usesWeight = false;
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly feedforward: boolean;
  readonly l: tf.Variable<tf.Rank.R2>;
  readonly variables: readonly tf.Variable[];

  constructor(v: Ia3LayerValues) {
    this.module = v.module;
    this.inFeatures = v.inFeatures;
    this.outFeatures = v.outFeatures;
    this.feedforward = v.feedforward;
    this.l = variableFrom(v.l, Ia3Layer.shapeOf(v.feedforward, v.inFeatures, v.outFeatures)) as tf.Variable<tf.Rank.R2>;
    this.variables = [this.l];
  }

  static shapeOf(feedforward: boolean, inFeatures: number, outFeatures: number): [number, number] {
    return feedforward ? [1, inFeatures] : [outFeatures, 1];
  }

  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, _weight: tf.Tensor2D): tf.Tensor2D {
    if (this.feedforward) return base(tf.mul(x, this.l));
    return tf.mul(base(x), tf.reshape(this.l, [1, this.outFeatures]));
  }

  mergedWeight(weight: tf.Tensor2D): tf.Tensor2D {
    // [out, 1] broadcasts over columns (row scaling); [1, in] over rows (column scaling)
    return tf.mul(weight, this.l);
  }

  state(read?: HostRead): StateTensor[] {
    return [stateOf('ia3_l', this.l, read)];
  }

  dispose(): void {
    this.l.dispose();
  }
}
