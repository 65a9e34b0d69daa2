/**
 * The PEFT adapter directories (test/fixtures/adapters/qwen3-tiny-<method>) on webgpu: each of the six methods
 * loads, gives PEFT's golden logits, writes back the same files, its merged weights give the same logits,
 * it detaches leaving the model bit-identical; merge_and_unload. Tolerances as in test/core/adapters/peft-dirs.test.ts.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/core/backend.js';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { assertClose, FIXTURES, maxAbsDiff, readJson, readTensors, TINY_MODEL } from '../adapters/helpers.js';
import { take } from './helpers.js';

interface Golden {
  tolerance: { logits_atol: number };
  sequences: { input_ids: number[]; logits: number[][] }[];
}

const METHODS = ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3'] as const;

async function allLogits(model: Qwen3Model, golden: Golden): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const s of golden.sequences) out.push(await take(model.logits([s.input_ids])));
  return out;
}

async function checkWrittenBack(method: string, adapter: AttachedAdapter, dir: string): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), `wsflow-webgpu-peft-${method}-`));
  try {
    await adapter.saveAsync(out, 'qwen3-tiny');
    assert.equal(readFileSync(join(out, 'adapter_config.json'), 'utf8'), readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    const ours = readTensors(join(out, 'adapter_model.safetensors'));
    for (const [k, v] of readTensors(join(dir, 'adapter_model.safetensors'))) {
      const o = ours.get(k);
      assert.ok(o !== undefined, `${method}: ${k} not written`);
      assert.equal(maxAbsDiff(o.data, v.data), 0, `${method}: ${k} not written back exactly`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function adaptersSuite(t: TestContext): Promise<void> {
  await initBackend('webgpu');
  const { model } = await loadQwen3(TINY_MODEL);
  t.after(() => model.dispose());
  const baseGolden = readJson<Golden>(join(TINY_MODEL, 'golden.json'));
  const baseLogits = await allLogits(model, baseGolden);

  for (const method of METHODS) {
    await t.test(method, async () => {
      const dir = join(FIXTURES, 'adapters', `qwen3-tiny-${method}`);
      const golden = readJson<Golden>(join(dir, 'golden.json'));
      const atol = golden.tolerance.logits_atol;
      const tensorsBefore = tf.memory().numTensors;
      const adapter = await AttachedAdapter.loadAsync(model, dir, { modelType: 'qwen3' });
      const hooked = await allLogits(model, golden);
      golden.sequences.forEach((s, i) => assertClose(hooked[i] as Float32Array, s.logits.flat(), atol, `${method} adapter logits, sequence ${i}`));
      await checkWrittenBack(method, adapter, dir);

      const originals = new Map<string, tf.Tensor>();
      for await (const w of adapter.mergedWeightsAsync()) {
        const tw = tf.tensor(w.data, w.shape);
        originals.set(w.name, model.setParameter(w.name, tw));
        tw.dispose();
      }
      for (const l of adapter.layers) model.setLinearHook(l.module, null);
      const merged = await allLogits(model, golden);
      merged.forEach((l, i) => {
        assertClose(l, hooked[i] as Float32Array, 2e-5, `${method} merged vs adapter logits, sequence ${i}`);
        assertClose(l, (golden.sequences[i] as { logits: number[][] }).logits.flat(), atol, `${method} merged logits vs golden, sequence ${i}`);
      });
      for (const [name, orig] of originals) {
        model.setParameter(name, orig).dispose();
        orig.dispose();
      }
      for (const l of adapter.layers) model.setLinearHook(l.module, l);

      adapter.detach();
      const after = await allLogits(model, baseGolden);
      after.forEach((l, i) => assert.equal(maxAbsDiff(l, baseLogits[i] as Float32Array), 0, `${method}: base logits changed after detach (sequence ${i})`));
      assert.equal(tf.memory().numTensors, tensorsBefore, `${method}: tensors leaked`);
    });
  }

  await t.test('merge_and_unload leaves the merged weights in the model and no hooks', async () => {
    const { model: fresh } = await loadQwen3(TINY_MODEL);
    try {
      const dir = join(FIXTURES, 'adapters', 'qwen3-tiny-dora');
      const golden = readJson<Golden>(join(dir, 'golden.json'));
      const adapter = await AttachedAdapter.loadAsync(fresh, dir, { modelType: 'qwen3' });
      adapter.mergeAndUnload();
      for (const l of adapter.layers) assert.equal(fresh.getLinearHook(l.module), null);
      const logits = await allLogits(fresh, golden);
      golden.sequences.forEach((s, i) => assertClose(logits[i] as Float32Array, s.logits.flat(), golden.tolerance.logits_atol, `merged dora, sequence ${i}`));
    } finally {
      fresh.dispose();
    }
  });
}
