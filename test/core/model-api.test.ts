/**
 * The model's seams for the stages and adapters, on every test backend: parameters by HF name with exact
 * swap-and-restore (weight steering), linear hooks (adapters) with gradients into the hook's variables only,
 * residual-stream capture and addition (RepE) that leave nothing behind, and the custom gradients of the
 * frozen linear and batched matMul against tfjs's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { bmm } from '../../src/core/qwen3/ops.js';
import { enableGradients, frozenLinear, initBackend, loadQwen3, padBatch, type LinearHook } from '../../src/core/index.js';
import { TEST_BACKENDS, TINY_FIXTURE, maxAbsDiff } from './helpers.js';

const SEQS = [
  [5, 17, 3, 99, 230, 7, 64],
  [11, 400, 2],
];

function values(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

for (const backend of TEST_BACKENDS) {
  void test(`model API on ${backend}`, async (t) => {
    await initBackend(backend);
    const { model } = await loadQwen3(TINY_FIXTURE);
    t.after(() => model.dispose());
    const { ids, mask } = padBatch(SEQS, 0, 'right');
    const baseLogits = values(model.logits(ids, mask));

    await t.test('parameter names, shapes, tied lm_head alias', () => {
      const names = model.parameterNames();
      assert.equal(names.length, 1 + 2 * 11 + 1);
      assert.equal(names[0], 'model.embed_tokens.weight');
      assert.ok(!names.includes('lm_head.weight'), 'a tied lm_head is listed once, as the embedding');
      assert.deepEqual(model.parameterShape('model.layers.1.self_attn.q_proj.weight'), [64, 64]);
      assert.deepEqual(model.parameterShape('model.layers.0.mlp.down_proj.weight'), [64, 128]);
      assert.deepEqual(model.linearModuleNames().slice(0, 7), [
        'model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.k_proj', 'model.layers.0.self_attn.v_proj',
        'model.layers.0.self_attn.o_proj', 'model.layers.0.mlp.gate_proj', 'model.layers.0.mlp.up_proj', 'model.layers.0.mlp.down_proj',
      ]);
      assert.deepEqual(model.outputWeight().shape, [512, 64]);
      const kernel = model.outputKernel();
      assert.deepEqual(kernel.shape, [64, 512], 'the deprecated transposed copy');
      assert.equal(model.outputKernel(), kernel, 'made once');
      const before = tf.memory().numTensors;
      const e = model.getParameter('model.embed_tokens.weight');
      tf.dispose([e, model.setParameter('model.embed_tokens.weight', e)]);
      assert.equal(tf.memory().numTensors, before - 1, 'a weight change drops the copy');
      const emb = model.getParameter('model.embed_tokens.weight');
      const lm = model.getParameter('lm_head.weight');
      assert.deepEqual(emb.shape, [512, 64]);
      assert.equal(maxAbsDiff(values(emb), values(lm)), 0);
      assert.throws(() => model.getParameter('model.layers.9.mlp.up_proj.weight'), /no parameter/);
    });

    await t.test('setParameter: θ + α·dW changes logits; restoring the returned value is exact', () => {
      const before = tf.memory().numTensors;
      for (const name of ['model.layers.0.self_attn.v_proj.weight', 'model.layers.1.post_attention_layernorm.weight', 'model.embed_tokens.weight']) {
        const w = model.getParameter(name);
        const steered = tf.tidy(() => tf.add(w, tf.mul(tf.onesLike(w), 0.05)));
        const prev = model.setParameter(name, steered);
        assert.equal(maxAbsDiff(prev.dataSync(), w.dataSync()), 0, 'returns the previous value in PyTorch layout');
        const changed = values(model.logits(ids, mask));
        assert.ok(maxAbsDiff(changed, baseLogits) > 1e-3, `${name}: steering changes logits`);
        const back = model.setParameter(name, prev);
        assert.equal(maxAbsDiff(back.dataSync(), steered.dataSync()), 0);
        assert.equal(maxAbsDiff(values(model.logits(ids, mask)), baseLogits), 0, `${name}: exact restore`);
        tf.dispose([w, steered, prev, back]);
      }
      assert.equal(tf.memory().numTensors, before);
      const w = model.getParameter('model.norm.weight');
      assert.throws(() => model.setParameter('model.norm.weight', tf.zeros([63])), /does not match the parameter's \[64\]/);
      w.dispose();
    });

    await t.test('an identity hook changes nothing; hooks see the weight in PyTorch layout; removal restores', () => {
      const mod = 'model.layers.1.mlp.up_proj';
      let seen: number[] | null = null;
      const w = model.getParameter(`${mod}.weight`);
      const identity: LinearHook = {
        apply: (x, base, weight) => {
          seen = weight.shape;
          assert.equal(maxAbsDiff(weight.dataSync(), w.dataSync()), 0);
          return base(x);
        },
      };
      model.setLinearHook(mod, identity);
      assert.equal(maxAbsDiff(values(model.logits(ids, mask)), baseLogits), 0);
      assert.deepEqual(seen, [128, 64]);
      // a hook that computes x·Wᵀ itself from `weight` gives the same logits
      model.setLinearHook(mod, { apply: (x, _base, weight) => tf.matMul(x, weight, false, true) });
      assert.ok(maxAbsDiff(values(model.logits(ids, mask)), baseLogits) < 1e-5);
      // the hook gets the model's own tensor: no copy per hooked module
      const before = tf.memory().numTensors;
      model.setLinearHook(mod, { usesWeight: false, apply: (x, base) => base(x) });
      tf.dispose(model.logits(ids, mask));
      assert.equal(tf.memory().numTensors, before);
      model.setLinearHook(mod, { apply: (x) => tf.zeros([x.shape[0], 3]) });
      assert.throws(() => model.logits(ids, mask), /hook on model\.layers\.1\.mlp\.up_proj returned shape \[\d+, 3\], expected \[\d+, 128\]/);
      model.setLinearHook(mod, null);
      assert.equal(maxAbsDiff(values(model.logits(ids, mask)), baseLogits), 0);
      assert.throws(() => model.setLinearHook('model.layers.1.mlp.nope', null), /no linear module/);
      w.dispose();
    });

    await t.test('training path: gradients reach the hook variables only, and match finite differences', async (st) => {
      await enableGradients();
      const mod = 'model.layers.0.self_attn.q_proj';
      const a = tf.variable(tf.randomNormal([64, 4], 0, 0.1, 'float32', 1), true, 'test_lora_a');
      const b = tf.variable(tf.randomNormal([4, 64], 0, 0.1, 'float32', 2), true, 'test_lora_b');
      st.after(() => {
        model.setLinearHook(mod, null);
        a.dispose();
        b.dispose();
      });
      model.setLinearHook(mod, { apply: (x, base) => tf.add(base(x), tf.matMul(tf.matMul(x, a), b)) });
      const probe = tf.randomNormal([2, ids[0]!.length, 512], 0, 1, 'float32', 3);
      const loss = (): tf.Scalar =>
        tf.tidy(() => {
          const h = model.hiddenStates(ids, mask);
          const logits = model.projectToVocab(tf.reshape(h, [-1, 64]) as tf.Tensor2D);
          return tf.sum(tf.mul(tf.reshape(logits, probe.shape), probe));
        });
      const nVars = tf.engine().state.registeredVariables;
      assert.deepEqual(Object.keys(nVars).filter((k) => k.startsWith('test_lora')).sort(), ['test_lora_a', 'test_lora_b']);
      const { value, grads } = tf.variableGrads(loss, [a, b]);
      const ga = grads['test_lora_a'] as tf.Tensor;
      const gb = grads['test_lora_b'] as tf.Tensor;
      assert.ok(Number.isFinite(value.dataSync()[0]));
      assert.ok(tf.tidy(() => tf.max(tf.abs(gb)).dataSync()[0]!) > 0);
      // finite differences on two entries of b (central, step 1e-2; the loss is smooth)
      for (const [i, j] of [[0, 3], [2, 40]] as const) {
        const eps = 1e-2;
        const bump = (d: number): number => {
          const delta = tf.tidy(() => tf.scatterND([[i, j]], [d], [4, 64]));
          b.assign(tf.tidy(() => tf.add(b, delta)));
          const l = loss();
          const v = l.dataSync()[0]!;
          l.dispose();
          b.assign(tf.tidy(() => tf.sub(b, delta)));
          delta.dispose();
          return v;
        };
        const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
        const analytic = (gb.arraySync() as number[][])[i]![j]!;
        assert.ok(Math.abs(numeric - analytic) <= 0.02 * Math.max(1, Math.abs(analytic)), `d loss / d b[${i}][${j}]: analytic ${analytic}, numeric ${numeric}`);
      }
      tf.dispose([value, ga, gb, probe]);
    });

    await t.test('residual stream: capture at the last real token; addition at a layer; no trace afterwards', () => {
      const before = tf.memory().numTensors;
      const res = model.residualStream(ids, mask);
      assert.deepEqual(res.shape, [2, 2, 64]);
      const single = model.residualStream([SEQS[1]!]);
      const resArr = res.arraySync() as number[][][];
      const singleArr = single.arraySync() as number[][][];
      for (let l = 0; l < 2; l++) assert.ok(maxAbsDiff(resArr[l]![1]!, singleArr[l]![0]!) < 1e-5, `layer ${l}: padded row's last token = unpadded`);
      tf.dispose([res, single]);
      const vec = Array.from({ length: 64 }, (_, i) => Math.sin(i));
      const addAll = model.residualStream(ids, mask, { layers: [0], at: 'all', residualAdd: [{ layer: 0, vector: vec, scale: 2 }] });
      const plain = model.residualStream(ids, mask, { layers: [0], at: 'all' });
      const diff = tf.tidy(() => tf.sub(addAll, plain));
      const d = diff.arraySync() as number[][][][];
      for (const row of d[0]!) for (const pos of row) assert.ok(maxAbsDiff(pos, vec.map((v) => 2 * v)) < 1e-5, 'adds scale·vector at every position, padding included');
      tf.dispose([addAll, plain, diff]);
      const steered = values(model.logits(ids, mask, { residualAdd: [{ layer: 1, vector: tf.tidy(() => tf.fill([64], 0.5) as tf.Tensor1D), scale: 1 }] }));
      assert.ok(maxAbsDiff(steered, baseLogits) > 1e-3);
      assert.equal(maxAbsDiff(values(model.logits(ids, mask)), baseLogits), 0, 'the next plain forward is unchanged');
      // the fill above created one tensor the test did not dispose: none of the model's
      assert.ok(tf.memory().numTensors <= before + 1);
      assert.throws(() => model.logits(ids, mask, { residualAdd: [{ layer: 2, vector: vec }] }), /layer 2 is out of range/);
      assert.throws(() => model.logits(ids, mask, { residualAdd: [{ layer: 0, vector: [1, 2] }] }), /expected \[64\]/);
    });
  });
}

void test('custom gradients of frozenLinear and bmm equal tfjs matMul gradients', async () => {
  await enableGradients();
  for (const backend of TEST_BACKENDS) {
    await initBackend(backend);
    tf.tidy(() => {
      const x = tf.randomNormal([5, 7], 0, 1, 'float32', 4) as tf.Tensor2D;
      const k = tf.randomNormal([7, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
      const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 6);
      const ours = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(frozenLinear(xx as tf.Tensor2D, k), dy)))(x);
      const ref = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, k), dy)))(x);
      assert.ok(maxAbsDiff(ours.dataSync(), ref.dataSync()) < 1e-5);
      const a = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 7) as tf.Tensor3D;
      const b = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 8) as tf.Tensor3D;
      const dz = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 9);
      const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(bmm(p as tf.Tensor3D, q as tf.Tensor3D), dz)))([a, b]);
      const [ra, rb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D), dz)))([a, b]);
      assert.ok(maxAbsDiff(ga!.dataSync(), ra!.dataSync()) < 1e-5);
      assert.ok(maxAbsDiff(gb!.dataSync(), rb!.dataSync()) < 1e-5);
    });
  }
});
