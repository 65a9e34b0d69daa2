/**
 * The Qwen3 forward pass against the independent float64 reference in test/fixtures/qwen3-tiny/golden.json,
 * on every test backend: logits and last-position log-softmax within 1e-4, the residual stream after every
 * layer (to localise a mismatch), and batching with padding (right and left) equal to one sequence at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadQwen3, padBatch, type Qwen3Model } from '../../../src/core/index.js';
import { TEST_BACKENDS, TINY_FIXTURE, maxAbsDiff } from '../helpers.js';

interface GoldenSequence {
  input_ids: number[];
  logits: number[][];
  last_log_softmax: number[];
  argmax_last: number;
}
interface Golden {
  tolerance: { logits_atol: number; last_log_softmax_atol: number };
  sequences: GoldenSequence[];
  intermediates: Record<string, unknown> & { sequence_index: number };
}

const golden = JSON.parse(readFileSync(join(TINY_FIXTURE, 'golden.json'), 'utf8')) as Golden;
const ATOL = golden.tolerance.logits_atol;

function flat(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

for (const backend of TEST_BACKENDS) {
  void test(`qwen3-tiny golden logits on ${backend}`, async (t) => {
    await initBackend(backend);
    const { model } = await loadQwen3(TINY_FIXTURE);
    t.after(() => model.dispose());

    await t.test('every position of every sequence, and the last log-softmax', () => {
      for (const seq of golden.sequences) {
        const logits = model.logits([seq.input_ids]);
        const d = maxAbsDiff(flat(logits), seq.logits.flat());
        logits.dispose();
        assert.ok(d <= ATOL, `length ${seq.input_ids.length}: max |logit - golden| = ${d} > ${ATOL}`);
        const lsm = model.logSoftmaxAt([seq.input_ids], undefined, 'last');
        const dl = maxAbsDiff(flat(lsm), seq.last_log_softmax);
        const arg = tf.tidy(() => tf.argMax(tf.reshape(lsm, [-1])).dataSync()[0]);
        lsm.dispose();
        assert.ok(dl <= golden.tolerance.last_log_softmax_atol, `length ${seq.input_ids.length}: last log-softmax off by ${dl}`);
        assert.equal(arg, seq.argmax_last);
      }
    });

    await t.test('residual stream after each layer and after the final norm', () => {
      const seq = golden.sequences[golden.intermediates.sequence_index] as GoldenSequence;
      const layers = Array.from({ length: model.numLayers }, (_, i) => i);
      const res = model.residualStream([seq.input_ids], undefined, { layers, at: 'all' });
      const all = res.arraySync() as number[][][][];
      res.dispose();
      for (const l of layers) {
        const want = golden.intermediates[`after_layer_${l}`] as number[][];
        const d = maxAbsDiff((all[l] as number[][][])[0]!.flat(), want.flat());
        assert.ok(d <= ATOL, `after_layer_${l}: max diff ${d}`);
      }
      const hs = model.hiddenStates([seq.input_ids]);
      const d = maxAbsDiff(flat(hs), (golden.intermediates['final_norm'] as number[][]).flat());
      hs.dispose();
      assert.ok(d <= ATOL, `final_norm: max diff ${d}`);
    });

    await t.test('batched with right or left padding equals one sequence at a time', () => {
      const seqs = golden.sequences.map((s) => s.input_ids);
      const single = seqs.map((ids) => {
        const l = model.logits([ids]);
        const v = l.arraySync()[0] as number[][];
        l.dispose();
        return v;
      });
      for (const side of ['right', 'left'] as const) {
        const { ids, mask } = padBatch(seqs, 0, side);
        const l = model.logits(ids, mask);
        const all = l.arraySync();
        l.dispose();
        const S = ids[0]!.length;
        seqs.forEach((s, b) => {
          const offset = side === 'right' ? 0 : S - s.length;
          const rows = (all[b] as number[][]).slice(offset, offset + s.length);
          const d = maxAbsDiff(rows.flat(), (single[b] as number[][]).flat());
          assert.ok(d <= 1e-5, `${side} padding, row ${b}: batched differs from unbatched by ${d}`);
        });
        const last = model.lastLogits(ids, mask);
        const lastRows = last.arraySync();
        last.dispose();
        seqs.forEach((s, b) => {
          const d = maxAbsDiff(lastRows[b] as number[], (single[b] as number[][])[s.length - 1] as number[]);
          assert.ok(d <= 1e-5, `${side} padding lastLogits row ${b}: ${d}`);
        });
      }
    });

    await t.test('token log-probs agree with log_softmax of the logits; chunking does not change results', () => {
      const seqs = golden.sequences.map((s) => s.input_ids);
      const { ids, mask } = padBatch(seqs, 0, 'right');
      const lp = model.tokenLogprobs(ids, mask, { chunkRows: 5 });
      const got = lp.arraySync();
      lp.dispose();
      seqs.forEach((s, b) => {
        const ref = model.logSoftmaxAt([s], undefined, 'all');
        const r = ref.arraySync()[0] as number[][];
        ref.dispose();
        assert.equal(got[b]![0], 0);
        for (let t1 = 1; t1 < s.length; t1++) {
          assert.ok(Math.abs(got[b]![t1]! - r[t1 - 1]![s[t1]!]!) <= 1e-5, `row ${b} token ${t1}`);
        }
        for (let t1 = s.length; t1 < ids[0]!.length; t1++) assert.equal(got[b]![t1], 0, 'padding scores 0');
      });
      const whole = model.logits(ids, mask);
      const chunked = model.logits(ids, mask, { chunkRows: 3 });
      assert.equal(maxAbsDiff(flat(whole), flat(chunked)), 0);
      whole.dispose();
      chunked.dispose();
      const two = padBatch(seqs.slice(1), 0, 'right');
      const tail = model.logSoftmaxAt(two.ids, two.mask, [-3, -2]);
      assert.deepEqual(tail.shape, [2, 2, 512]);
      const tailRows = tail.arraySync();
      tail.dispose();
      seqs.slice(1).forEach((s, b) => {
        const ref = model.logSoftmaxAt([s], undefined, [s.length - 3]);
        assert.ok(maxAbsDiff(flat(ref), tailRows[b]![0]!) <= 1e-5, 'negative positions count back from the last real token');
        ref.dispose();
      });
      assert.throws(() => model.logSoftmaxAt(ids, mask, [-3]), /outside row 0/);
    });
  });
}

void test('bad token batches are rejected with the row and position named', async () => {
  await initBackend('cpu');
  const { model } = await loadQwen3(TINY_FIXTURE);
  try {
    assert.throws(() => model.logits([[1, 2, 999]]), /token id 999 at row 0, position 2 is outside the vocabulary \[0, 512\)/);
    assert.throws(() => model.logits([[1, 2], [3]]), /row 1 has 1 ids, expected 2/);
    assert.throws(() => model.logits([[1, 2]], [[0, 0]]), /row 0 has no real tokens/);
    assert.throws(() => model.logits([[1, 2]], [[1, 2]]), /position 1 is 2, expected 0 or 1/);
    assert.throws(() => model.logits([]), /empty/);
  } finally {
    model.dispose();
  }
});

export type { Qwen3Model };
