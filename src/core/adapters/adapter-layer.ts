/**
 * One adapted linear module: a LinearHook plus what training, saving and merging need from it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead } from '../host-read.js';
import { syncRead } from '../host-read.js';
import type { LinearHook } from './linear-hook.js';

/** A tensor of the PEFT state dict, keyed by its suffix after `base_model.model.<module>.` */
export interface StateTensor {
  suffix: string;
  shape: number[];
  data: Float32Array;
}

export interface AdapterLayer extends LinearHook {
  /** no adapter reads the `weight` argument: the model need not keep a second copy of hooked weights */
  readonly usesWeight: false;
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** the trainable variables, in a fixed order (optimizer state follows it) */
  readonly variables: readonly tf.Variable[];
  /** the tensors PEFT saves for this module (adapter name removed), e.g. lora_A.weight, lora_B.weight */
  state(read?: HostRead): StateTensor[];
  /** W' with x·W'ᵀ = apply(x) for the base weight W [out, in] (PEFT's merge); the caller disposes it */
  mergedWeight(weight: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** A trainable variable holding a copy of `data`. */
export function variableFrom(data: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(data, shape, 'float32');
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

export function stateOf(suffix: string, t: tf.Tensor, read: HostRead = syncRead): StateTensor {
  return { suffix, shape: [...t.shape], data: read(t) };
}

/** Checks a tensor read from a file has the shape the layer needs; the message names the tensor. */
export function expectShape(name: string, got: readonly number[], want: readonly number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new Error(`tensor "${name}" has shape [${got.join(', ')}], expected [${want.join(', ')}]`);
  }
}
