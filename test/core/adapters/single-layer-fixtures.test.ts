/**
 * Each adapter type on one linear layer against the numpy reference of PEFT's formulas
 * (test/fixtures/adapters/<type>.{json,safetensors}): forward output and merged weight within the fixture's
 * stated tolerance, plus the per-method intermediate quantities the fixtures carry.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import type { PeftAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import { layerFromSaved, loraScaling } from '../../../src/core/adapters/layer-factory.js';
import type { SavedTensor } from '../../../src/core/adapters/layer-factory.js';
import { resolveTargets } from '../../../src/core/adapters/target-modules.js';
import { DeloraLayer, columnNorms } from '../../../src/core/adapters/delora-layer.js';
import { OftLayer } from '../../../src/core/adapters/oft-layer.js';
import { LoraLayer } from '../../../src/core/adapters/lora-layer.js';
import { pissaInit } from '../../../src/core/adapters/pissa-init.js';
import { Rng } from '../../../src/core/random.js';
import { assertClose, FIXTURES, flat, readJson, readTensors, useBackend } from './helpers.js';

interface Fixture {
  module: string;
  in_features: number;
  out_features: number;
  tensors_file: string;
  tensors: Record<string, string>;
  config: Record<string, unknown>;
  expected: Record<string, unknown>;
  tolerance: { output_atol: number; merged_weight_atol: number; init_atol?: number };
}

function load(type: string) {
  const fx = readJson<Fixture>(join(FIXTURES, 'adapters', `${type}.json`));
  const tensors = readTensors(join(FIXTURES, 'adapters', fx.tensors_file));
  const parsed = parseAdapterConfig(fx.config, `${type}.json config`);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  const config: PeftAdapterConfig = parsed.value.config;
  const [target] = resolveTargets(config, [fx.module], 'qwen3');
  assert.ok(target !== undefined, `${fx.module} is not targeted by the fixture config`);
  const tensorOf = (role: string) => {
    const key = fx.tensors[role];
    const t = key === undefined ? undefined : tensors.get(key);
    assert.ok(t !== undefined, `fixture ${type} has no tensor for role ${role}`);
    return t;
  };
  const saved = new Map<string, SavedTensor>();
  const prefix = `base_model.model.${fx.module}.`;
  for (const [key, t] of tensors) if (key.startsWith(prefix)) saved.set(key.slice(prefix.length), { key, shape: t.shape, data: t.data });
  const w = tensorOf('base_weight');
  const x = tensorOf('x');
  return { fx, config, target, saved, w, x, tensorOf };
}

/** output and merged weight of a built layer against the fixture */
function checkLayer(type: string, baseWeight: Float32Array) {
  const { fx, config, target, saved, x } = load(type);
  const geometry = { target, inFeatures: fx.in_features, outFeatures: fx.out_features, weight: () => tf.tensor2d(baseWeight, [fx.out_features, fx.in_features]) };
  const built = layerFromSaved(config, geometry, saved, new Rng(0));
  const W = tf.tensor2d(built.residual ?? baseWeight, [fx.out_features, fx.in_features]);
  const X = tf.tensor2d(x.data, x.shape as [number, number]);
  const base = (v: tf.Tensor2D): tf.Tensor2D => tf.matMul(v, tf.transpose(W));
  const y = tf.tidy(() => built.layer.apply(X, base, W));
  assertClose(y.dataSync(), flat(fx.expected['output']), fx.tolerance.output_atol, `${type} output`);
  const merged = built.layer.mergedWeight(W);
  assertClose(merged.dataSync(), flat(fx.expected['merged_weight']), fx.tolerance.merged_weight_atol, `${type} merged weight`);
  tf.dispose([W, X, y, merged]);
  return built;
}

void describe('adapters against single-layer PEFT fixtures', () => {
  before(async () => {
    await useBackend();
  });

  void it('lora', () => {
    const { w } = load('lora');
    checkLayer('lora', w.data).layer.dispose();
  });

  void it('dora (magnitude rescaling by the detached row norm)', () => {
    const { w, fx } = load('dora');
    const built = checkLayer('dora', w.data);
    const layer = built.layer as LoraLayer;
    const W = tf.tensor2d(w.data, [fx.out_features, fx.in_features]);
    const norm = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.add(W, layer.deltaWeight())), 1)));
    assertClose(norm.dataSync(), flat(fx.expected['weight_norm']), 1e-5, 'dora weight_norm');
    tf.dispose([W, norm]);
    layer.dispose();
  });

  void it('delora (rank scale with the 1e-4 clamp on a zero column, w_norm)', () => {
    const { w, fx } = load('delora');
    const built = checkLayer('delora', w.data);
    const layer = built.layer as DeloraLayer;
    const scale = layer.rankScale();
    const expected = flat(fx.expected['rank_scale']);
    const got = scale.dataSync();
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i] as number;
      assert.ok(Math.abs((got[i] as number) - e) <= 1e-5 * Math.max(1, Math.abs(e)), `rank_scale[${i}] ${got[i]} vs ${e}`);
    }
    const W = tf.tensor2d(w.data, [fx.out_features, fx.in_features]);
    assertClose(columnNorms(W), flat(fx.expected['w_norm_from_base']), 1e-5, 'delora w_norm from base');
    tf.dispose([W, scale]);
    layer.dispose();
  });

  for (const type of ['oft', 'oft_cayley_exact']) {
    void it(`${type} (rotation blocks, input rotated block-wise)`, () => {
      const { w, fx } = load(type);
      const built = checkLayer(type, w.data);
      const layer = built.layer as OftLayer;
      const rot = tf.tidy(() => layer.rotation());
      assertClose(rot.dataSync(), flat(fx.expected['rotation_blocks']), 1e-5, `${type} rotation blocks`);
      rot.dispose();
      layer.dispose();
    });
  }

  void it('ia3 (output scaling)', () => {
    const { w } = load('ia3');
    checkLayer('ia3', w.data).layer.dispose();
  });

  void it('ia3_feedforward (input scaling)', () => {
    const { w } = load('ia3_feedforward');
    checkLayer('ia3_feedforward', w.data).layer.dispose();
  });

  void it('pissa: SVD init (up to sign), residual base weight, trained forward and merge', () => {
    const { fx, w, config, tensorOf } = load('pissa');
    assert.equal(config.peft_type, 'LORA');
    if (config.peft_type !== 'LORA') return;
    const r = config.r;
    const s = loraScaling(config, r, config.lora_alpha);
    const initAtol = fx.tolerance.init_atol ?? 1e-5;
    const init = pissaInit(w.data, fx.out_features, fx.in_features, r, s, { kind: 'exact' });
    assertClose(init.singularValues, flat(fx.expected['init_singular_values']).slice(0, r), initAtol, 'pissa singular values');
    assertClose(init.residual, flat(fx.expected['init_residual_weight']), initAtol, 'pissa residual');
    assertClose(init.residual, tensorOf('residual_base_weight').data, initAtol, 'pissa residual vs float32 model file');
    // B0·A0 is sign-invariant
    const ba = tf.tidy(() => tf.matMul(tf.tensor2d(init.B, [fx.out_features, r]), tf.tensor2d(init.A, [r, fx.in_features])).dataSync());
    assertClose(ba, flat(fx.expected['init_BA']), initAtol, 'pissa B0·A0');
    // A0 and B0 equal the reference up to a per-rank sign flip (row i of A with column i of B)
    const refA = tensorOf('init_lora_A_reference_signs').data;
    const refB = tensorOf('init_lora_B_reference_signs').data;
    for (let i = 0; i < r; i++) {
      const rowA = init.A.subarray(i * fx.in_features, (i + 1) * fx.in_features);
      const refRowA = refA.subarray(i * fx.in_features, (i + 1) * fx.in_features);
      let dot = 0;
      for (let j = 0; j < fx.in_features; j++) dot += (rowA[j] as number) * (refRowA[j] as number);
      const sign = dot < 0 ? -1 : 1;
      assertClose(Array.from(rowA, (v) => v * sign), refRowA, initAtol, `pissa A0 row ${i}`);
      const colB = Array.from({ length: fx.out_features }, (_, o) => (init.B[o * r + i] as number) * sign);
      const refColB = Array.from({ length: fx.out_features }, (_, o) => refB[o * r + i] as number);
      assertClose(colB, refColB, initAtol, `pissa B0 column ${i}`);
    }
    // trained adapter on the residual weight PEFT recomputes from the original weight on load
    const built = checkLayer('pissa', w.data);
    assert.ok(built.residual !== undefined, 'an unconverted PiSSA adapter must come with its residual base');
    built.layer.dispose();
  });

  void it('pissa: saving converts to a rank-2r plain LoRA against the original weight', () => {
    const { fx, w, x, tensorOf, config } = load('pissa');
    if (config.peft_type !== 'LORA') return;
    const r = config.r;
    const s = loraScaling(config, r, config.lora_alpha);
    const init = pissaInit(w.data, fx.out_features, fx.in_features, r, s, { kind: 'exact' });
    const trainedA = tensorOf('lora_A').data;
    const trainedB = tensorOf('lora_B').data;
    const layer = new LoraLayer({ module: fx.module, inFeatures: fx.in_features, outFeatures: fx.out_features, r, scaling: s, A: trainedA, B: trainedB, pissaInitial: { A0: init.A, B0: init.B } });
    const [a2, b2] = layer.convertedPissaState();
    assert.ok(a2 !== undefined && b2 !== undefined);
    assert.deepEqual(a2.shape, [2 * r, fx.in_features]);
    assert.deepEqual(b2.shape, [fx.out_features, 2 * r]);
    const conv = fx.expected['converted_lora'] as Record<string, unknown>;
    assert.equal(conv['r'], 2 * r);
    const s2 = (conv['lora_alpha'] as number) / (conv['r'] as number);
    assert.equal(s2, s);
    const W = tf.tensor2d(w.data, [fx.out_features, fx.in_features]);
    const delta = tf.tidy(() => tf.mul(tf.matMul(tf.tensor2d(b2.data, b2.shape as [number, number]), tf.tensor2d(a2.data, a2.shape as [number, number])), s2));
    assertClose(delta.dataSync(), flat(conv['delta_weight']), fx.tolerance.merged_weight_atol, 'converted delta weight');
    const y = tf.tidy(() => tf.matMul(tf.tensor2d(x.data, x.shape as [number, number]), tf.transpose(tf.add(W, delta))));
    assertClose(y.dataSync(), flat(conv['output_on_original_base']), fx.tolerance.output_atol, 'converted output on original base');
    tf.dispose([W, delta, y]);
    layer.dispose();
  });
});
