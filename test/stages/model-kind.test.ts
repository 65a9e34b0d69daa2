import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelDirOf, sha256File } from '../../stages/model/model-ref.js';
import { cleanupTempDirs, kind, REPO_ROOT, runKind, tempDir, tinyModelStage, upstream, validParams } from './helpers.js';

after(cleanupTempDirs);

void test('model tiny: writes a loadable Qwen3 directory with model-ref.json (random, fingerprinted) and provenance', async () => {
  const m = await tinyModelStage();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model-ref.json', 'provenance.json']) {
    assert.ok(existsSync(join(m.outDir, f)), `${f} written`);
  }
  const ref = JSON.parse(readFileSync(join(m.outDir, 'model-ref.json'), 'utf8')) as { source: string; dir: string | null; random: boolean; files: { name: string; sha256: string }[]; num_layers: number; hidden_size: number };
  assert.equal(ref.source, 'tiny');
  assert.equal(ref.dir, null);
  assert.equal(ref.random, true);
  assert.equal(ref.num_layers, 4);
  assert.equal(ref.hidden_size, 32);
  const weights = ref.files.find((f) => f.name === 'model.safetensors');
  assert.equal(weights?.sha256, sha256File(join(m.outDir, 'model.safetensors')));
  const prov = JSON.parse(readFileSync(join(m.outDir, 'provenance.json'), 'utf8')) as { model_random: boolean; kind: string };
  assert.equal(prov.model_random, true);
  assert.equal(prov.kind, 'model');
  const resolved = modelDirOf(m.outDir);
  assert.equal(resolved.dir, m.outDir);
});

void test('model tiny: the same params give the same fingerprint', async () => {
  const a = await tinyModelStage();
  const b = await runKind('model', { params: { tiny: { seed: 0, layers: 4, hidden_size: 32, intermediate_size: 64, heads: 2, kv_heads: 1, head_dim: 16 } } });
  const fp = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'model-ref.json'), 'utf8')) as { fingerprint: string }).fingerprint;
  assert.equal(fp(a.outDir), fp(b.outDir));
  const c = await runKind('model', { params: { tiny: { seed: 1, layers: 2, hidden_size: 32, intermediate_size: 64, heads: 2, kv_heads: 1, head_dim: 16 } } });
  assert.notEqual(fp(a.outDir), fp(c.outDir));
});

void test('model id: a local model directory is referenced in place (no weights copied) and fingerprinted', async () => {
  const tiny = await tinyModelStage();
  const ext = kind('model').externalInputs?.(validParams(kind('model'), { id: tiny.outDir }), { projectDir: REPO_ROOT });
  assert.ok(ext?.ok);
  assert.ok(ext.inputs.some((i) => i.path === join(tiny.outDir, 'model.safetensors')), 'the weights are an external input (part of the key)');
  const m = await runKind('model', { params: { id: tiny.outDir } });
  assert.deepEqual(readdirSync(m.outDir).sort(), ['model-ref.json', 'provenance.json']);
  const ref = JSON.parse(readFileSync(join(m.outDir, 'model-ref.json'), 'utf8')) as { source: string; dir: string; random: boolean; fingerprint: string };
  assert.equal(ref.source, 'path');
  assert.equal(ref.dir, tiny.outDir);
  assert.equal(ref.random, false);
  assert.equal(modelDirOf(m.outDir).dir, tiny.outDir);
});

void test('model id: a Hub id missing from the local cache is a planning error naming where it looked, the fetch command and the smoke profile', () => {
  const hub = tempDir();
  const k = kind('model');
  const saved = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = hub;
  try {
    const r = k.externalInputs?.(validParams(k, { id: 'Qwen/Qwen3-0.6B' }), { projectDir: REPO_ROOT });
    assert.ok(r !== undefined && !r.ok);
    assert.equal(r.param, 'id');
    assert.match(r.error, /Qwen\/Qwen3-0\.6B/);
    assert.ok(r.error.includes(join(hub, 'models--Qwen--Qwen3-0.6B')), r.error);
    assert.match(r.error, /hf download Qwen\/Qwen3-0\.6B/);
    assert.match(r.error, /--profile smoke/);
  } finally {
    if (saved === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = saved;
  }
});

void test('model: exactly one of id and tiny', () => {
  const k = kind('model');
  const both = k.externalInputs?.(validParams(k, { id: 'Qwen/Qwen3-0.6B', tiny: { seed: 0 } }), { projectDir: REPO_ROOT });
  assert.ok(both !== undefined && !both.ok);
  assert.match(both.error, /not both/);
  const none = k.externalInputs?.(validParams(k, {}), { projectDir: REPO_ROOT });
  assert.ok(none !== undefined && !none.ok);
  assert.match(none.error, /give `id`/);
  assert.throws(() => validParams(k, { tiny: { seed: 0, layerz: 2 } }), /additionalProperties|layerz/);
});

void test('model input: a stale model-ref.json (moved model) is an error naming the file', () => {
  const d = tempDir();
  writeFileSync(join(d, 'model-ref.json'), JSON.stringify({ schema: 'wsflow.model-ref/1', source: 'path', id: 'x', dir: join(d, 'gone'), revision: null, random: false, fingerprint: 'f', files: [], num_layers: 1, hidden_size: 2 }));
  assert.throws(() => modelDirOf(d), /model-ref\.json names the model directory .*gone.*no config\.json/);
  assert.throws(() => modelDirOf(tempDir()), /neither model-ref\.json nor config\.json/);
  assert.ok(upstream('m', d));
});
