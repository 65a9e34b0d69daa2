/**
 * Generation on a tiny random Qwen3 with the real tokenizer: the KV-cache path equals recomputing the whole
 * sequence every step (greedy ids and per-step logits), seeds make sampling reproducible, rows stop at their own
 * stop token, min_new_tokens suppresses it, and the sampling warpers keep exactly what transformers keeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { generate, initBackend, loadQwen3, loadTokenizer, padBatch, readGenerationConfig, sampleToken, writeTinyQwen3, Rng } from '../../src/core/index.js';
import { TEST_BACKENDS, maxAbsDiff, withTempDir } from './helpers.js';

void test('tiny-model generation', async (t) => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'tiny');
    writeTinyQwen3(dir, { seed: 7, numLayers: 2 });
    const tok = loadTokenizer(dir);
    const prompts = [
      tok.encodeChat([{ role: 'user', content: 'Tell me about honesty.' }], { addGenerationPrompt: true }),
      tok.encodeChat([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true, enableThinking: false }),
      tok.encode('Once upon a time'),
    ];
    for (const backend of TEST_BACKENDS) {
      await initBackend(backend);
      const { model } = await loadQwen3(dir);
      // the pure-JS cpu backend is ~10x slower: fewer steps there, same checks
      const steps = backend === 'cpu' ? 5 : 12;
      try {
        await t.test(`${backend}: KV cache equals full recomputation (greedy ids and each step's logits)`, async () => {
          const cached = await generate(model, prompts, { doSample: false, maxNewTokens: steps });
          const full = await generate(model, prompts, { doSample: false, maxNewTokens: steps, useCache: false });
          assert.deepEqual(cached, full);
          assert.ok(cached.tokens.every((r) => r.length === steps));
          // step logits: decode() after a prefix equals the plain forward over prefix + token
          const cache = model.newCache(prompts.length);
          const start = padBatch(prompts, 0, 'left');
          const seqIds = start.ids.map((r) => [...r]);
          const seqMask = start.mask.map((r) => [...r]);
          let ids = start.ids;
          let mask = start.mask;
          for (let step = 0; step < 4; step++) {
            const a = model.decode(cache, ids, mask);
            const b = model.lastLogits(seqIds, seqMask);
            const d = maxAbsDiff(a.dataSync(), b.dataSync());
            a.dispose();
            b.dispose();
            assert.ok(d < 1e-4, `step ${step}: cached logits differ by ${d}`);
            const next = cached.tokens.map((r) => r[step] as number);
            ids = next.map((x) => [x]);
            mask = next.map(() => [1]);
            next.forEach((x, r) => {
              seqIds[r]!.push(x);
              seqMask[r]!.push(1);
            });
          }
          model.disposeCache(cache);
        });

        await t.test(`${backend}: a batched prompt gives the same greedy continuation as alone`, async () => {
          const batched = await generate(model, prompts, { doSample: false, maxNewTokens: 4 });
          for (let i = 0; i < prompts.length; i++) {
            const alone = await generate(model, [prompts[i]!], { doSample: false, maxNewTokens: 4 });
            assert.deepEqual(alone.tokens[0], batched.tokens[i], `row ${i}`);
          }
        });

        await t.test(`${backend}: same seed, same ids; another seed, other ids`, async () => {
          const gc = readGenerationConfig(dir);
          assert.deepEqual(gc, { doSample: true, temperature: 0.6, topK: 20, topP: 0.95, stopTokenIds: [151645, 151643] });
          const opts = { doSample: true, temperature: 0.6, topK: 20, topP: 0.95, maxNewTokens: steps } as const;
          const a = await generate(model, prompts, { ...opts, seed: 1 });
          const b = await generate(model, prompts, { ...opts, seed: 1 });
          const c = await generate(model, prompts, { ...opts, seed: 2 });
          assert.deepEqual(a, b);
          assert.notDeepEqual(a.tokens, c.tokens);
        });

        await t.test(`${backend}: each row stops at its own stop token (included), others continue`, async () => {
          const free = await generate(model, prompts, { doSample: false, maxNewTokens: 5 });
          const stopId = free.tokens[0]![2]!;
          const r = await generate(model, prompts, { doSample: false, maxNewTokens: 5, stopTokenIds: [stopId] });
          assert.deepEqual(r.tokens[0], free.tokens[0]!.slice(0, free.tokens[0]!.indexOf(stopId) + 1));
          assert.equal(r.stopped[0], true);
          for (let i = 1; i < prompts.length; i++) {
            const cut = free.tokens[i]!.indexOf(stopId);
            assert.deepEqual(r.tokens[i], cut < 0 ? free.tokens[i] : free.tokens[i]!.slice(0, cut + 1));
            assert.equal(r.stopped[i], cut >= 0);
          }
          const first = free.tokens[1]![0]!;
          const suppressed = await generate(model, [prompts[1]!], { doSample: false, maxNewTokens: 1, stopTokenIds: [first], minNewTokens: 1 });
          assert.notEqual(suppressed.tokens[0]![0], first, 'min_new_tokens keeps the stop token out of step 1');
        });

        await t.test(`${backend}: activation steering during generation changes the output and leaves no trace`, async () => {
          const base = await generate(model, prompts, { doSample: false, maxNewTokens: 3 });
          const vector = new Float32Array(model.config.hiddenSize).fill(0).map((_, i) => (i % 2 === 0 ? 1 : -1));
          const steered = await generate(model, prompts, { doSample: false, maxNewTokens: 3, forward: { residualAdd: [{ layer: 0, vector, scale: 8 }] } });
          assert.notDeepEqual(steered.tokens, base.tokens);
          const again = await generate(model, prompts, { doSample: false, maxNewTokens: 3 });
          assert.deepEqual(again, base);
        });
      } finally {
        model.dispose();
      }
    }
  });
});

void test('sampling warpers keep what transformers keeps', () => {
  const rng = new Rng(0);
  const logits = Float32Array.from([1, 3, 3, 2, -1, 0.5]);
  // top-k 1 and min-p 1 are greedy; ties at the k-th value are kept (ids 1 and 2)
  const seenK1 = new Set<number>();
  for (let i = 0; i < 200; i++) seenK1.add(sampleToken(logits, { doSample: true, topK: 1 }, rng));
  assert.deepEqual([...seenK1].sort(), [1, 2]);
  for (let i = 0; i < 50; i++) assert.ok([1, 2].includes(sampleToken(logits, { doSample: true, minP: 1 }, rng)));
  // top-p: probs ∝ e^[1,3,3,2,-1,.5]; the two 3s hold 0.768 of the mass, so top_p 0.6 and 0.7 keep ids 1, 2 only; 0.8 adds id 3 (0.909 with it)
  const seenP = new Set<number>();
  for (let i = 0; i < 400; i++) seenP.add(sampleToken(logits, { doSample: true, topP: 0.6 }, rng));
  assert.deepEqual([...seenP].sort(), [1, 2]);
  const seenP2 = new Set<number>();
  for (let i = 0; i < 400; i++) seenP2.add(sampleToken(logits, { doSample: true, topP: 0.7 }, rng));
  assert.deepEqual([...seenP2].sort(), [1, 2]);
  const seenP3 = new Set<number>();
  for (let i = 0; i < 400; i++) seenP3.add(sampleToken(logits, { doSample: true, topP: 0.8 }, rng));
  assert.deepEqual([...seenP3].sort(), [1, 2, 3]);
  // top-k 3 keeps ids 1, 2 and 3
  const seenK3 = new Set<number>();
  for (let i = 0; i < 400; i++) seenK3.add(sampleToken(logits, { doSample: true, topK: 3 }, rng));
  assert.deepEqual([...seenK3].sort(), [1, 2, 3]);
  // plain sampling matches the softmax: p(id 3) = e^2 / Σ
  const z = [1, 3, 3, 2, -1, 0.5].reduce((s, v) => s + Math.exp(v), 0);
  let hits = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) if (sampleToken(logits, { doSample: true }, rng) === 3) hits++;
  const p3 = Math.exp(2) / z;
  assert.ok(Math.abs(hits / n - p3) < 4 * Math.sqrt((p3 * (1 - p3)) / n), `frequency ${hits / n} vs ${p3}`);
  // temperature sharpens: at T = 0.05 the two top tokens take everything
  for (let i = 0; i < 50; i++) assert.ok([1, 2].includes(sampleToken(logits, { doSample: true, temperature: 0.05 }, rng)));
  assert.throws(() => sampleToken(Float32Array.from([-Infinity, -Infinity]), { doSample: true }, rng), /every token is masked/);
});

void test('generate rejects bad options', async () => {
  await initBackend('cpu');
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'tiny');
    writeTinyQwen3(dir, { seed: 1, numLayers: 1 });
    const { model } = await loadQwen3(dir);
    try {
      await assert.rejects(generate(model, [[1, 2]], { doSample: true, maxNewTokens: 2 }), /needs an integer seed/);
      await assert.rejects(generate(model, [[1, 2]], { doSample: false, maxNewTokens: 0 }), /maxNewTokens/);
      await assert.rejects(generate(model, [[]], { doSample: false, maxNewTokens: 1 }), /prompt 0 is empty/);
      await assert.rejects(generate(model, [[1]], { doSample: true, seed: 1, topP: 0, maxNewTokens: 1 }), /topP/);
    } finally {
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, 0);
  });
});
