/** The training memory estimate counts the kept frozen products of the layered backward (native's default). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QWEN3_0_6B_CONFIG } from '../../../src/core/qwen3/config.js';
import { estimateTrainingMemory } from '../../../src/core/training/memory-estimate.js';

void test('kept frozen products add q, k, v, o, gate, up, down and attention outputs per token and trainable block', () => {
  const base = { config: QWEN3_0_6B_CONFIG, trainableParams: 10_092_544, microBatch: 4, seqLen: 512, checkpointing: true, firstTrainableLayer: 8 };
  const plain = estimateTrainingMemory(base);
  const kept = estimateTrainingMemory({ ...base, keepsFrozenProducts: true });
  // 20 trainable blocks × 2048 tokens × 14,336 floats (2·2048 + 2·1024 + 2·1024 + 2·3072 at 0.6B width)
  assert.equal(kept.activationBytes - plain.activationBytes, 20 * 2048 * 14336 * 4);
  // without checkpointing nothing is recomputed, so nothing is kept
  assert.equal(estimateTrainingMemory({ ...base, checkpointing: false, keepsFrozenProducts: true }).activationBytes, estimateTrainingMemory({ ...base, checkpointing: false }).activationBytes);
});
