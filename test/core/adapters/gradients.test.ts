/**
 * The adapters' gradients (custom matmul, DoRA's detached norm, DeLoRA's clamped norms, OFT's skew/Cayley
 * construction, IA3) against central finite differences of the forward pass, on one linear layer.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import type { AdapterLayer } from '../../../src/core/adapters/adapter-layer.js';
import { LoraLayer } from '../../../src/core/adapters/lora-layer.js';
import { DeloraLayer } from '../../../src/core/adapters/delora-layer.js';
import { OftLayer } from '../../../src/core/adapters/oft-layer.js';
import { Ia3Layer } from '../../../src/core/adapters/ia3-layer.js';
import { Rng } from '../../../src/core/random.js';
import { useBackend } from './helpers.js';

const OUT = 12;
const IN = 16;
const N = 5;
const rng = new Rng(7);
const W = rng.normalArray(OUT * IN, 0, 0.5);
const X = rng.normalArray(N * IN, 0, 1);
const R = rng.normalArray(N * OUT, 0, 1);
const rowNormSq = Float32Array.from({ length: OUT }, (_, o) => {
  let s = 0;
  for (let i = 0; i < IN; i++) s += (W[o * IN + i] as number) ** 2;
  return s;
});

before(async () => {
  await useBackend(process.env['WSFLOW_TEST_BACKEND'] ?? 'cpu');
  await registerAllGradients();
});

/** L = Σ apply(x) ⊙ R */
function loss(layer: AdapterLayer): tf.Scalar {
  return tf.tidy(() => {
    const w = tf.tensor2d(W, [OUT, IN]);
    const wt = tf.transpose(w);
    const y = layer.apply(tf.tensor2d(X, [N, IN]), (x) => tf.matMul(x, wt), w);
    return tf.sum(tf.mul(y, tf.tensor2d(R, [N, OUT])));
  });
}

function lossValue(layer: AdapterLayer): number {
  const l = loss(layer);
  const v = l.dataSync()[0] as number;
  l.dispose();
  return v;
}

/**
 * Check d L / d variable at a few coordinates against (L(v+h) − L(v−h)) / 2h. `reference` optionally replaces
 * the finite-difference loss (DoRA: the norm must stay frozen at its current value).
 */
function checkGradients(name: string, layer: AdapterLayer, reference?: () => number): void {
  const vars = [...layer.variables];
  const { grads } = tf.variableGrads(() => loss(layer), vars);
  const fd = reference ?? (() => lossValue(layer));
  const pick = new Rng(3);
  for (const v of vars) {
    const g = grads[v.name];
    assert.ok(g !== undefined, `${name}: no gradient for ${v.name}`);
    const gv = g.dataSync();
    assert.ok(gv.every((x) => Number.isFinite(x)), `${name}: non-finite gradient for ${v.name}`);
    const base = (v.dataSync() as Float32Array).slice();
    for (let k = 0; k < Math.min(4, base.length); k++) {
      const i = pick.int(base.length);
      const h = 1e-2 * Math.max(1, Math.abs(base[i] as number));
      const at = (delta: number): number => {
        const p = base.slice();
        p[i] = (base[i] as number) + delta;
        v.assign(tf.tensor(p, v.shape));
        return fd();
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      const analytic = gv[i] as number;
      const tol = 2e-2 * Math.max(1, Math.abs(numeric));
      assert.ok(Math.abs(analytic - numeric) <= tol, `${name}: d/d${v.name}[${i}] analytic ${analytic} vs numeric ${numeric}`);
    }
  }
  tf.dispose(grads);
}

const r = 3;
const A = () => rng.normalArray(r * IN, 0, 0.3);
const B = () => rng.normalArray(OUT * r, 0, 0.3);

void test('lora gradient', () => {
  const layer = new LoraLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, r, scaling: 2, A: A(), B: B() });
  checkGradients('lora', layer);
  layer.dispose();
});

void test('dora gradient treats the weight norm as a constant (detached, as PEFT)', () => {
  const a = A();
  const b = B();
  const magnitude = rng.normalArray(OUT, 1, 0.1);
  const layer = new LoraLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, r, scaling: 2, A: a, B: b, magnitude, weightRowNormSq: rowNormSq });
  // the detached norm, frozen at the current A, B: ‖W + s·B·A‖ per row
  const norm = Float32Array.from({ length: OUT }, (_, o) => {
    let s2 = 0;
    for (let i = 0; i < IN; i++) {
      let d = 0;
      for (let j = 0; j < r; j++) d += (b[o * r + j] as number) * (a[j * IN + i] as number);
      s2 += ((W[o * IN + i] as number) + 2 * d) ** 2;
    }
    return Math.sqrt(s2);
  });
  const frozenNormLoss = (): number =>
    tf.tidy(() => {
      const x = tf.tensor2d(X, [N, IN]);
      const y = tf.add(tf.matMul(x, tf.transpose(tf.tensor2d(W, [OUT, IN]))), tf.mul(tf.matMul(tf.matMul(x, tf.transpose(layer.A)), tf.transpose(layer.B)), 2));
      const g = tf.div(layer.magnitude as tf.Tensor1D, tf.tensor1d(norm));
      return tf.sum(tf.mul(tf.mul(y, g), tf.tensor2d(R, [N, OUT]))).dataSync()[0] as number;
    });
  checkGradients('dora', layer, frozenNormLoss);
  layer.dispose();
});

void test('delora gradient, and a finite B gradient at B = 0 (clamped norm)', () => {
  const wNorm = rng.uniformArray(IN, 0.5, 1.5);
  const layer = new DeloraLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, r, A: A(), B: B(), lambda: Float32Array.of(2), wNorm });
  checkGradients('delora', layer);
  layer.dispose();
  const atInit = new DeloraLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, r, A: A(), B: new Float32Array(OUT * r), lambda: Float32Array.of(15), wNorm });
  const { grads } = tf.variableGrads(() => loss(atInit), [...atInit.variables]);
  const gB = grads[atInit.B.name];
  assert.ok(gB !== undefined);
  const values = gB.dataSync();
  assert.ok(values.every((x) => Number.isFinite(x)), 'DeLoRA B gradient at B = 0 must be finite');
  assert.ok(values.some((x) => x !== 0), 'DeLoRA B gradient at B = 0 must not vanish');
  tf.dispose(grads);
  atInit.dispose();
});

for (const exact of [false, true]) {
  void test(`oft gradient (${exact ? 'exact Cayley' : 'Cayley-Neumann'})`, () => {
    const b = 4;
    const k = (b * (b - 1)) / 2;
    const layer = new OftLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, blockSize: b, nBlocks: IN / b, blockShare: false, useCayleyNeumann: !exact, numCayleyNeumannTerms: 5, coft: false, eps: 6e-5, R: rng.normalArray((IN / b) * k, 0, 0.2) });
    checkGradients('oft', layer);
    layer.dispose();
  });
}

void test('oft block_share gradient (one rotation broadcast over every block)', () => {
  const b = 4;
  const layer = new OftLayer({ module: 'm', inFeatures: IN, outFeatures: OUT, blockSize: b, nBlocks: IN / b, blockShare: true, useCayleyNeumann: true, numCayleyNeumannTerms: 5, coft: false, eps: 6e-5, R: rng.normalArray(6, 0, 0.2) });
  checkGradients('oft block_share', layer);
  layer.dispose();
});

for (const feedforward of [false, true]) {
  void test(`ia3 gradient (${feedforward ? 'input' : 'output'} scaling)`, () => {
    const n = feedforward ? IN : OUT;
    const layer = new Ia3Layer({ module: 'm', inFeatures: IN, outFeatures: OUT, feedforward, l: rng.normalArray(n, 1, 0.2) });
    checkGradients('ia3', layer);
    layer.dispose();
  });
}
