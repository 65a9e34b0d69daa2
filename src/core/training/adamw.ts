/**
 * torch.optim.AdamW (single-tensor path), stated explicitly because tfjs' Adam differs (epsilon 1e-7 and no
 * decoupled weight decay): for each parameter p with gradient g at step t (1-based),
 *   p ← p·(1 − lr·wd)
 *   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
 * Defaults as torch: β = (0.9, 0.999), eps = 1e-8; weight decay as the study sets it (0.01).
 */
import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly #vars: readonly tf.Variable[];
  readonly #m: tf.Tensor[];
  readonly #v: tf.Tensor[];
  #t = 0;

  constructor(vars: readonly tf.Variable[], opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    this.#vars = vars;
    this.#m = vars.map((v) => tf.keep(tf.zerosLike(v)));
    this.#v = vars.map((v) => tf.keep(tf.zerosLike(v)));
  }

  get step(): number {
    return this.#t;
  }

  /** One update with gradients aligned to the variables; the caller keeps ownership of `grads`. */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    if (grads.length !== this.#vars.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.#vars.length} variables`);
    this.#t++;
    const bc1 = 1 - this.beta1 ** this.#t;
    const bc2 = 1 - this.beta2 ** this.#t;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    this.#vars.forEach((p, i) => {
      const g = grads[i] as tf.Tensor;
      const [m, v, next] = tf.tidy(() => {
        const decayed = this.weightDecay !== 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        const m1 = tf.add(tf.mul(this.#m[i] as tf.Tensor, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(this.#v[i] as tf.Tensor, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), sqrtBc2), this.eps);
        return [m1, v1, tf.sub(decayed, tf.mul(tf.div(m1, denom), stepSize))];
      });
      (this.#m[i] as tf.Tensor).dispose();
      (this.#v[i] as tf.Tensor).dispose();
      this.#m[i] = tf.keep(m);
      this.#v[i] = tf.keep(v);
      p.assign(next);
      next.dispose();
    });
  }

  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t.dispose();
  }
}
