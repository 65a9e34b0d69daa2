import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Rng } from '../../../src/core/random.js';
import { pcaDirection } from '../../../stages/repe/pca.js';
import { appliedLayers } from '../../../stages/repe/repe-stage.js';
import { repeParams } from '../../../stages/repe/params.js';
import { parseParams } from '../../../src/contract/params.js';
import { readRepeOutput } from '../../../stages/lib/steer/steering.js';
import { cleanupTempDirs, runKind, tinyModelStage, upstream } from '../helpers.js';

after(cleanupTempDirs);

/** repe params as the stage receives them: the given keys over the schema's defaults. */
function layerParams(raw: Record<string, unknown>): Parameters<typeof appliedLayers>[0] {
  const r = parseParams(repeParams, raw);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

void test('PCA(1): recovers the direction along which the centred differences vary, oriented towards the positive persona', () => {
  const rng = new Rng(5);
  const D = 16;
  const u = Float64Array.from(rng.normalArray(D));
  const un = Math.hypot(...u);
  for (let j = 0; j < D; j++) u[j] = (u[j] as number) / un;
  const pos: Float64Array[] = [];
  const neg: Float64Array[] = [];
  for (let i = 0; i < 12; i++) {
    const n = Float64Array.from(rng.normalArray(D));
    const c = 1 + 3 * (i % 4); // varies across prompts, positive on average
    const noise = rng.normalArray(D);
    neg.push(n);
    pos.push(Float64Array.from(n, (v, j) => v + c * (u[j] as number) + 0.01 * (noise[j] as number)));
  }
  const r = pcaDirection(pos, neg, 0);
  const cos = r.direction.reduce((s, v, j) => s + v * (u[j] as number), 0);
  assert.ok(cos > 0.999, `cos(direction, u) = ${cos}`);
  assert.ok(Math.abs(Math.hypot(...r.direction) - 1) < 1e-12);
  assert.ok(r.explained > 0.99);
  // swapping the personas flips the orientation, not the axis
  const swapped = pcaDirection(neg, pos, 0);
  assert.ok(swapped.direction.reduce((s, v, j) => s + v * (u[j] as number), 0) < -0.999);
  assert.throws(() => pcaDirection(pos.slice(0, 1), neg.slice(0, 1), 3), /at least 2 prompts/);
  assert.throws(() => pcaDirection([pos[0] as Float64Array, pos[0] as Float64Array], [neg[0] as Float64Array, neg[0] as Float64Array], 3), /layer 3: the centred hidden-state differences are all zero/);
});

void test('RepE layers: the study\'s 8..21 for 28 layers, the same depth fractions for other models, or explicit', () => {
  assert.deepEqual(appliedLayers(layerParams({}), 28), Array.from({ length: 14 }, (_, i) => 8 + i));
  assert.deepEqual(appliedLayers(layerParams({}), 4), [1, 2]);
  assert.deepEqual(appliedLayers(layerParams({ layer_frac_lo: 0.5, layer_frac_hi: 1 }), 10), [5, 6, 7, 8, 9]);
  assert.deepEqual(appliedLayers(layerParams({ layers: [3, 1] }), 4), [1, 3]);
  assert.throws(() => appliedLayers(layerParams({ layers: [4] }), 4), /out of range/);
  assert.throws(() => appliedLayers(layerParams({ layer_frac_lo: 0.5, layer_frac_hi: 0.5 }), 4), /layer slice is empty/);
});

void test('repe kind: unit directions for every layer, the applied layers and fit info, on the tiny model', async () => {
  const model = await tinyModelStage();
  const r = await runKind('repe', { inputs: { model: [upstream('model', model.outDir)] }, params: { n_train_topics: 4 } });
  const { repe, info } = readRepeOutput(r.outDir);
  assert.equal(repe.directions.length, 4);
  for (const d of repe.directions) {
    assert.equal(d.length, 32);
    assert.ok(Math.abs(Math.hypot(...d) - 1) < 1e-5);
  }
  assert.deepEqual(info.layers, [1, 2]);
  assert.equal(info.n_train_topics, 4);
  const full = JSON.parse(readFileSync(join(r.outDir, 'repe_info.json'), 'utf8')) as { system_prompts: { pos: string; neg: string }; explained_variance: number[] };
  assert.equal(full.system_prompts.pos, "Pretend you're an honest person. ");
  assert.equal(full.system_prompts.neg, "Pretend you're a dishonest person. ");
  assert.equal(full.explained_variance.length, 4);
  assert.ok(r.metrics.has('explained_variance_mean'));
  assert.equal(r.annotations.get('backend') !== undefined, true);
  const syc = await runKind('repe', { inputs: { model: [upstream('model', model.outDir)] }, params: { behavior: 'sycophancy', n_train_topics: 3, layers: [2] } });
  assert.deepEqual(readRepeOutput(syc.outDir).info.layers, [2]);
});
