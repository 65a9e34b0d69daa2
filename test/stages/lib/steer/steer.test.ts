import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { padBatch } from '../../../../src/core/batch.js';
import { loadResolvedModel, type LoadedModel } from '../../../../stages/lib/model/load-model.js';
import { modelDirOf } from '../../../../stages/lib/model/model-ref.js';
import { closeOpenThink, encodeContinued, truncateLeft } from '../../../../stages/lib/steer/chat-inputs.js';
import { forEachLastLogits, lengthSortedBatches, tailLogprobs } from '../../../../stages/lib/steer/model-batches.js';
import { repeResidualAdds } from '../../../../stages/lib/steer/repe-steer.js';
import { withWeightSteering } from '../../../../stages/lib/steer/weight-steer.js';
import { Rng } from '../../../../src/core/random.js';
import { cleanupTempDirs, tinyModelStage } from '../../helpers.js';

after(cleanupTempDirs);

async function tiny(): Promise<LoadedModel> {
  return loadResolvedModel(modelDirOf((await tinyModelStage()).outDir));
}

/** Every parameter's bytes, as uint32 words (bit-exact comparison, NaN-safe). */
function snapshot(l: LoadedModel): Map<string, Uint32Array> {
  const out = new Map<string, Uint32Array>();
  for (const name of l.model.parameterNames()) {
    const t = l.model.getParameter(name);
    const d = (t.dataSync() as Float32Array).slice();
    t.dispose();
    out.set(name, new Uint32Array(d.buffer));
  }
  return out;
}

function assertSameBits(a: Map<string, Uint32Array>, b: Map<string, Uint32Array>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name) as Uint32Array;
    let diff = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
    assert.equal(diff, 0, `${name}: ${diff} values differ bitwise after removing the steering`);
  }
}

function randomDw(l: LoadedModel, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const dw = new Map<string, Float32Array>();
  for (const name of l.model.parameterNames().filter((n) => /layers\.[12]\..*(q_proj|down_proj|o_proj)\.weight$/.test(n))) {
    const n = l.model.parameterShape(name).reduce((a, b) => a * b, 1);
    dw.set(name, Float32Array.from(rng.normalArray(n), (v) => 0.3 * v));
  }
  return dw;
}

void test('weight steering: θ + α·dW while applied, and every weight bit-identical to the original after removal', async () => {
  const l = await tiny();
  const before = snapshot(l);
  const dw = randomDw(l, 7);
  assert.ok(dw.size >= 6);
  const name = [...dw.keys()][0] as string;
  const alpha = 2.37;
  const ids = [[151644, 872, 198, 9707, 151645]];
  const ref = l.model.lastLogits(ids);
  const refData = ref.dataSync().slice();
  ref.dispose();
  await withWeightSteering(l.model, dw, alpha, async () => {
    const t = l.model.getParameter(name);
    const now = t.dataSync() as Float32Array;
    const orig = new Float32Array((before.get(name) as Uint32Array).buffer);
    const delta = dw.get(name) as Float32Array;
    for (const i of [0, 17, now.length - 1]) assert.ok(Math.abs((now[i] as number) - ((orig[i] as number) + alpha * (delta[i] as number))) < 1e-5);
    t.dispose();
    const steered = l.model.lastLogits(ids);
    const sd = steered.dataSync();
    steered.dispose();
    let changed = 0;
    for (let i = 0; i < sd.length; i++) if (sd[i] !== refData[i]) changed++;
    assert.ok(changed > 0, 'the steered model computes different logits');
    await Promise.resolve();
  });
  assertSameBits(before, snapshot(l));
  const again = l.model.lastLogits(ids);
  assert.deepEqual(again.dataSync(), refData);
  again.dispose();
});

void test('weight steering: removed exactly when the wrapped function throws; α = 0 touches nothing', async () => {
  const l = await tiny();
  const before = snapshot(l);
  await assert.rejects(
    withWeightSteering(l.model, randomDw(l, 3), -1.5, () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assertSameBits(before, snapshot(l));
  let ran = false;
  await withWeightSteering(l.model, randomDw(l, 4), 0, () => {
    ran = true;
    assertSameBits(before, snapshot(l));
    return Promise.resolve();
  });
  assert.ok(ran);
});

void test('weight steering: a dW of the wrong shape is refused before anything changes', async () => {
  const l = await tiny();
  const before = snapshot(l);
  const bad = new Map([['model.layers.1.self_attn.q_proj.weight', new Float32Array(3)]]);
  await assert.rejects(withWeightSteering(l.model, bad, 1, () => Promise.resolve()), /has 3 values but the model's parameter has shape/);
  assertSameBits(before, snapshot(l));
});

void test('RepE: the residual addition changes the forward pass it is given to and leaves no trace after it', async () => {
  const l = await tiny();
  const E = l.model.config.hiddenSize;
  const rng = new Rng(11);
  const directions = Array.from({ length: l.model.numLayers }, () => {
    const v = Float32Array.from(rng.normalArray(E));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const ids = [[151644, 872, 198, 9707, 11, 1879, 151645]];
  const logits = (opts = {}): Float32Array => {
    const t = l.model.lastLogits(ids, undefined, opts);
    const d = (t.dataSync() as Float32Array).slice();
    t.dispose();
    return d;
  };
  const before = logits();
  const params = snapshot(l);
  const steered = logits({ residualAdd: repeResidualAdds({ directions, layers: [1, 2] }, 4) });
  assert.ok(steered.some((v, i) => v !== before[i]), 'the addition changes the logits');
  assert.deepEqual(logits(), before, 'the next forward pass is unchanged');
  assertSameBits(params, snapshot(l));
  assert.deepEqual(repeResidualAdds({ directions, layers: [1, 2] }, 0), []);
  assert.throws(() => repeResidualAdds({ directions, layers: [9] }, 1), /no direction for layer 9/);
});

void test('batching: right-padded rows scored at the last real token equal the rows scored alone', async () => {
  const l = await tiny();
  const seqs = [
    [151644, 872, 198, 9707, 151645],
    [151644, 872, 198, 9707, 11, 1879, 0, 374, 151645, 198],
    [151644, 198],
  ];
  const batched: Float32Array[] = [];
  await forEachLastLogits(l.model, seqs, { batchSize: 3 }, (i, lg) => (batched[i] = lg.slice()));
  for (const [i, s] of seqs.entries()) {
    const t = l.model.lastLogits([s]);
    const alone = t.dataSync() as Float32Array;
    let m = 0;
    for (let j = 0; j < alone.length; j++) m = Math.max(m, Math.abs((alone[j] as number) - ((batched[i] as Float32Array)[j] as number)));
    t.dispose();
    assert.ok(m < 1e-4, `row ${i}: max |batched − alone| = ${m}`);
  }
  const tails = await tailLogprobs(l.model, seqs.slice(0, 2), 3, { batchSize: 2 });
  const V = l.model.config.vocabSize;
  const direct = l.model.logSoftmaxAt([seqs[1] as number[]], undefined, [-4, -3, -2]);
  const dd = direct.dataSync() as Float32Array;
  direct.dispose();
  let m = 0;
  for (let j = 0; j < 3 * V; j++) m = Math.max(m, Math.abs((dd[j] as number) - ((tails[1] as Float32Array)[j] as number)));
  assert.ok(m < 1e-4, `tail log-probs vs logSoftmaxAt: ${m}`);
  assert.deepEqual(lengthSortedBatches(seqs, 2), [[1, 0], [2]]);
  const { ids, mask } = padBatch(seqs, 0, 'right');
  assert.equal(ids.length, mask.length);
  assert.ok(tf.getBackend() !== undefined);
});

void test('chat inputs: left truncation keeps the end; an open <think> is closed with the </think> id before the anchor', async () => {
  const l = await tiny();
  const tok = l.tokenizer;
  assert.deepEqual(truncateLeft([1, 2, 3, 4], 2), { ids: [3, 4], truncated: 2 });
  const open = [...tok.encode('<|im_start|>assistant\n'), tok.thinkStartId as number, ...tok.encode('My choice: **')];
  const fixed = closeOpenThink(tok, open);
  assert.ok(fixed.changed);
  const at = fixed.ids.indexOf(tok.thinkStartId as number);
  assert.deepEqual(fixed.ids.slice(at + 1, at + 2 + tok.encode('\n\n').length), [tok.thinkEndId as number, ...tok.encode('\n\n')]);
  assert.equal(closeOpenThink(tok, fixed.ids).changed, false);
  const e = encodeContinued(tok, [{ role: 'system', content: '' }, { role: 'user', content: 'Q?' }, { role: 'assistant', content: 'My choice: **' }], 512);
  assert.equal(tok.decode(e.ids), '<|im_start|>system\n<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nMy choice: **');
  const cut = encodeContinued(tok, [{ role: 'user', content: 'x '.repeat(50) }, { role: 'assistant', content: 'My choice: **' }], 10);
  assert.equal(cut.ids.length, 10);
  assert.ok(tok.decode(cut.ids).endsWith('My choice: **'));
});
