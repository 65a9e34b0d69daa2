/**
 * The PEFT-format adapter directories test/fixtures/adapters/qwen3-tiny-<method> (written by PEFT 0.20) on the
 * real Qwen3 model: each loads, gives its golden logits within 1e-4, gives the same logits merged into the
 * weights (merge_and_unload) as beside them, writes back the same files PEFT wrote, and detaches cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { assertClose, FIXTURES, maxAbsDiff, readJson, readTensors, TEST_BACKENDS, TINY_MODEL, useBackend } from './helpers.js';

interface Golden {
  tolerance: { logits_atol: number };
  sequences: { input_ids: number[]; logits: number[][] }[];
  adapter: Record<string, unknown>;
}

const METHODS = ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3'] as const;

function allLogits(model: Qwen3Model, golden: Golden): Float32Array[] {
  return golden.sequences.map((s) => {
    const t = model.logits([s.input_ids]);
    const d = (t.dataSync() as Float32Array).slice();
    t.dispose();
    return d;
  });
}

function checkWrittenBack(method: string, adapter: AttachedAdapter, dir: string): void {
  const out = mkdtempSync(join(tmpdir(), `wsflow-peft-${method}-`));
  try {
    adapter.save(out, 'qwen3-tiny');
    assert.equal(readFileSync(join(out, 'adapter_config.json'), 'utf8'), readFileSync(join(dir, 'adapter_config.json'), 'utf8'), `${method}: adapter_config.json differs from PEFT's`);
    const ours = readTensors(join(out, 'adapter_model.safetensors'));
    const theirs = readTensors(join(dir, 'adapter_model.safetensors'));
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), `${method}: tensor keys differ`);
    for (const [k, v] of theirs) {
      const o = ours.get(k);
      assert.ok(o !== undefined);
      assert.deepEqual(o.shape, v.shape, k);
      assert.equal(maxAbsDiff(o.data, v.data), 0, `${method}: ${k} not written back exactly`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

for (const backend of TEST_BACKENDS) {
  void test(`PEFT adapter directories on qwen3-tiny (${backend})`, async (t) => {
    await useBackend(backend);
    const { model } = await loadQwen3(TINY_MODEL);
    t.after(() => model.dispose());
    const baseGolden = readJson<Golden>(join(TINY_MODEL, 'golden.json'));
    const baseLogits = allLogits(model, baseGolden);

    for (const method of METHODS) {
      await t.test(method, () => {
        const dir = join(FIXTURES, 'adapters', `qwen3-tiny-${method}`);
        const golden = readJson<Golden>(join(dir, 'golden.json'));
        const atol = golden.tolerance.logits_atol;
        const tensorsBefore = tf.memory().numTensors;

        const adapter = AttachedAdapter.load(model, dir, { modelType: 'qwen3' });
        const hooked = allLogits(model, golden);
        golden.sequences.forEach((s, i) => assertClose(hooked[i] as Float32Array, s.logits.flat(), atol, `${method} adapter logits, sequence ${i}`));
        checkWrittenBack(method, adapter, dir);

        // the merged weights alone (hooks off) give the adapter's logits and the golden ones
        const originals = new Map<string, tf.Tensor>();
        for (const w of adapter.mergedWeights()) {
          const tw = tf.tensor(w.data, w.shape);
          originals.set(w.name, model.setParameter(w.name, tw));
          tw.dispose();
        }
        for (const l of adapter.layers) model.setLinearHook(l.module, null);
        const mergedLogits = allLogits(model, golden);
        mergedLogits.forEach((l, i) => {
          assertClose(l, hooked[i] as Float32Array, 2e-5, `${method} merged vs adapter logits, sequence ${i}`);
          assertClose(l, (golden.sequences[i] as { logits: number[][] }).logits.flat(), atol, `${method} merged logits vs golden, sequence ${i}`);
        });
        for (const [name, orig] of originals) {
          model.setParameter(name, orig).dispose();
          orig.dispose();
        }
        for (const l of adapter.layers) model.setLinearHook(l.module, l);

        // detaching leaves the base model exactly as it was, with no tensor left behind
        adapter.detach();
        const after = allLogits(model, baseGolden);
        after.forEach((l, i) => assert.equal(maxAbsDiff(l, baseLogits[i] as Float32Array), 0, `${method}: base logits changed after detach (sequence ${i})`));
        assert.equal(tf.memory().numTensors, tensorsBefore, `${method}: tensors leaked`);
      });
    }

    await t.test('merge_and_unload leaves the merged weights in the model and no hooks', async () => {
      const { model: fresh } = await loadQwen3(TINY_MODEL);
      try {
        const dir = join(FIXTURES, 'adapters', 'qwen3-tiny-dora');
        const golden = readJson<Golden>(join(dir, 'golden.json'));
        const adapter = AttachedAdapter.load(fresh, dir, { modelType: 'qwen3' });
        adapter.mergeAndUnload();
        for (const l of adapter.layers) assert.equal(fresh.getLinearHook(l.module), null);
        const logits = allLogits(fresh, golden);
        golden.sequences.forEach((s, i) => assertClose(logits[i] as Float32Array, s.logits.flat(), golden.tolerance.logits_atol, `merged dora, sequence ${i}`));
        assert.throws(() => adapter.detach(), /already merged/);
      } finally {
        fresh.dispose();
      }
    });
  });
}
