/**
 * The tiny Qwen3's golden logits and padded batches on webgpu (forced: a software adapter such as llvmpipe in
 * CI), with the tolerances of test/core/qwen3/qwen3-golden.test.ts; and the backend description names the adapter.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, loadQwen3, padBatch } from '../../../src/core/index.js';
import { TINY_FIXTURE, maxAbsDiff } from '../helpers.js';
import { take } from './helpers.js';

interface Golden {
  tolerance: { logits_atol: number; last_log_softmax_atol: number };
  sequences: { input_ids: number[]; logits: number[][]; last_log_softmax: number[]; argmax_last: number }[];
}

export async function goldenSuite(t: TestContext): Promise<void> {
  const golden = JSON.parse(readFileSync(join(TINY_FIXTURE, 'golden.json'), 'utf8')) as Golden;
  const info = await initBackend('webgpu');
  assert.equal(info.name, 'webgpu');
  assert.match(info.detail, /adapter: .+; driver: .+/, 'the description names the adapter and its driver');
  const { model } = await loadQwen3(TINY_FIXTURE);
  t.after(() => model.dispose());

  await t.test('every position of every sequence, and the last log-softmax', async (st) => {
    for (const seq of golden.sequences) {
      const d = maxAbsDiff(await take(model.logits([seq.input_ids])), seq.logits.flat());
      st.diagnostic(`length ${seq.input_ids.length}: max |logit - golden| ${d.toExponential(2)}`);
      assert.ok(d <= golden.tolerance.logits_atol, `length ${seq.input_ids.length}: max |logit - golden| = ${d}`);
      const lsm = await take(model.logSoftmaxAt([seq.input_ids], undefined, 'last'));
      const dl = maxAbsDiff(lsm, seq.last_log_softmax);
      assert.ok(dl <= golden.tolerance.last_log_softmax_atol, `length ${seq.input_ids.length}: last log-softmax off by ${dl}`);
      assert.equal(lsm.indexOf(Math.max(...lsm)), seq.argmax_last);
    }
  });

  await t.test('batched with right or left padding equals one sequence at a time', async () => {
    const seqs = golden.sequences.map((s) => s.input_ids);
    const V = model.config.vocabSize;
    const single: Float32Array[] = [];
    for (const ids of seqs) single.push(await take(model.logits([ids])));
    for (const side of ['right', 'left'] as const) {
      const { ids, mask } = padBatch(seqs, 0, side);
      const S = (ids[0] as number[]).length;
      const all = await take(model.logits(ids, mask));
      const last = await take(model.lastLogits(ids, mask));
      seqs.forEach((s, b) => {
        const offset = side === 'right' ? 0 : S - s.length;
        const rows = all.subarray((b * S + offset) * V, (b * S + offset + s.length) * V);
        const d = maxAbsDiff(rows, single[b] as Float32Array);
        assert.ok(d <= 1e-5, `${side} padding, row ${b}: batched differs from unbatched by ${d}`);
        const dl = maxAbsDiff(last.subarray(b * V, (b + 1) * V), (single[b] as Float32Array).subarray((s.length - 1) * V, s.length * V));
        assert.ok(dl <= 1e-5, `${side} padding lastLogits row ${b}: ${dl}`);
      });
    }
  });

  await t.test('token log-probs agree with log_softmax of the logits (on the device, no host read)', async () => {
    const seqs = golden.sequences.map((s) => s.input_ids);
    const { ids, mask } = padBatch(seqs, 0, 'right');
    const S = (ids[0] as number[]).length;
    const V = model.config.vocabSize;
    const got = await take(model.tokenLogprobs(ids, mask, { chunkRows: 5 }));
    for (const [b, s] of seqs.entries()) {
      const ref = await take(model.logSoftmaxAt([s], undefined, 'all'));
      assert.equal(got[b * S], 0);
      for (let t1 = 1; t1 < s.length; t1++) {
        const want = ref[(t1 - 1) * V + (s[t1] as number)] as number;
        assert.ok(Math.abs((got[b * S + t1] as number) - want) <= 1e-5, `row ${b} token ${t1}`);
      }
      for (let t1 = s.length; t1 < S; t1++) assert.equal(got[b * S + t1], 0, 'padding scores 0');
    }
  });

  await t.test('a synchronous read fails with a message that says what to do', () => {
    const l = model.logits([[1, 2, 3]]);
    try {
      assert.throws(() => l.dataSync(), /synchronous read .* webgpu backend.*await tensor\.data\(\)/);
    } finally {
      l.dispose();
    }
  });
}
