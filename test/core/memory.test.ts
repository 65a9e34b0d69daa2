/**
 * Memory discipline: 200 forward passes through every scoring entry point leave the tensor count, the bytes held
 * and the wasm heap where they were after warm-up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadQwen3, memoryInfo, padBatch } from '../../src/core/index.js';
import { TEST_BACKENDS, TINY_FIXTURE } from './helpers.js';

const SEQS = [
  [5, 17, 3, 99, 230, 7, 64, 12, 8, 301],
  [11, 400, 2, 9],
  [1, 2, 3, 4, 5, 6],
];

for (const backend of TEST_BACKENDS) {
  void test(`200 forward passes do not grow memory on ${backend}`, async () => {
    await initBackend(backend);
    const { model } = await loadQwen3(TINY_FIXTURE);
    try {
      const { ids, mask } = padBatch(SEQS, 0, 'right');
      const vec = new Float32Array(64).fill(0.25);
      const pass = (i: number): void => {
        switch (i % 6) {
          case 0:
            tf.dispose(model.logits(ids, mask));
            break;
          case 1:
            tf.dispose(model.lastLogits(ids, mask, { residualAdd: [{ layer: 1, vector: vec, scale: 2 }] }));
            break;
          case 2:
            tf.dispose(model.tokenLogprobs(ids, mask, { chunkRows: 7 }));
            break;
          case 3:
            tf.dispose(model.logSoftmaxAt(ids, mask, [-2, -1]));
            break;
          case 4:
            tf.dispose(model.residualStream(ids, mask));
            break;
          default: {
            const cache = model.newCache(ids.length);
            tf.dispose(model.decode(cache, ids, mask));
            tf.dispose(model.decode(cache, [[1], [2], [3]], [[1], [1], [1]]));
            model.disposeCache(cache);
          }
        }
      };
      for (let i = 0; i < 12; i++) pass(i);
      const before = memoryInfo();
      for (let i = 0; i < 200; i++) pass(i);
      const after = memoryInfo();
      assert.equal(after.numTensors, before.numTensors, 'tensor count');
      assert.equal(after.numBytes, before.numBytes, 'bytes held by tensors');
      if (backend === 'wasm') {
        assert.ok(before.wasmHeapBytes !== undefined);
        assert.equal(after.wasmHeapBytes, before.wasmHeapBytes, 'wasm heap size');
      }
    } finally {
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, 0, 'dispose() frees every weight');
  });
}
