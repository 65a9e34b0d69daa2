/**
 * The qwen3-tiny golden logits (independent float64 reference, 1e-4 absolute) through the core's
 * Qwen3 model on the `native` backend, and batched-with-right-padding rows equal to unbatched ones.
 * Skipped, with the reason printed, only when the addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { enableNative } from '../../../src/core/native/index.js';
import { initBackend } from '../../../src/core/backend.js';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';

interface Golden {
  tolerance: { logits_atol: number };
  sequences: Array<{ input_ids: number[]; logits: number[][] }>;
}

const fixtureDir = fileURLToPath(new URL('../../../../test/fixtures/qwen3-tiny', import.meta.url));
const golden = JSON.parse(readFileSync(`${fixtureDir}/golden.json`, 'utf8')) as Golden;

const enabled = await enableNative(tf);
const skip = enabled.ok ? false : `native addon unavailable: ${enabled.error}`;
if (!enabled.ok) console.log(`# SKIP native golden test: ${enabled.error}`);

void test('qwen3-tiny logits on native match golden.json within its tolerance', { skip }, async () => {
  const info = await initBackend('native');
  assert.equal(info.name, 'native');
  assert.equal(tf.getBackend(), 'native');
  const { model } = await loadQwen3(fixtureDir);
  try {
    const atol = golden.tolerance.logits_atol;
    let worst = 0;
    for (const seq of golden.sequences) {
      const logits = model.logits([seq.input_ids], undefined, { positions: 'all' });
      const got = (await logits.array())[0] ?? [];
      logits.dispose();
      assert.equal(got.length, seq.logits.length);
      seq.logits.forEach((row, t) => {
        row.forEach((want, v) => {
          const diff = Math.abs((got[t]?.[v] ?? NaN) - want);
          if (!(diff <= atol)) assert.fail(`sequence of ${seq.input_ids.length} tokens, position ${t}, token ${v}: |${got[t]?.[v]} - ${want}| > ${atol}`);
          worst = Math.max(worst, diff);
        });
      });
    }
    console.log(`# native: max |logit - golden| = ${worst.toExponential(2)} (tolerance ${atol})`);

    // Right-padded batch: each row's real positions equal the row run alone.
    const rows = golden.sequences.map((s) => s.input_ids);
    const width = Math.max(...rows.map((r) => r.length));
    const ids = rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(0)]);
    const mask = rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(width - r.length).fill(0)]);
    const batched = model.logits(ids, mask, { positions: 'all' });
    const b = await batched.array();
    batched.dispose();
    for (let i = 0; i < rows.length; i++) {
      const single = model.logits([rows[i] ?? []], undefined, { positions: 'all' });
      const s = (await single.array())[0] ?? [];
      single.dispose();
      s.forEach((row, t) => row.forEach((v, k) => {
        const d = Math.abs(v - (b[i]?.[t]?.[k] ?? NaN));
        if (!(d <= 1e-5)) assert.fail(`row ${i} position ${t} token ${k}: batched ${b[i]?.[t]?.[k]} vs alone ${v}`);
      }));
    }
  } finally {
    model.dispose();
  }
});
