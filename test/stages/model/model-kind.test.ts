import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { modelDirOf, sha256File } from '../../../stages/lib/model/model-ref.js';
import { cleanupTempDirs, kind, REPO_ROOT, runKind, tempDir, tinyModelStage, upstream, validParams } from '../helpers.js';
import { externalInputsOf } from '../../../src/contract/stage-kind.js';

after(cleanupTempDirs);

void test('model tiny: writes a loadable Qwen3 directory with model-ref.json (random, fingerprinted) and provenance', async () => {
  const m = await tinyModelStage();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model-ref.json', 'provenance.json']) {
    assert.ok(existsSync(join(m.outDir, f)), `${f} written`);
  }
  const ref = JSON.parse(readFileSync(join(m.outDir, 'model-ref.json'), 'utf8')) as { schema: string; source: string; random: boolean; files: { name: string; sha256: string }[]; num_layers: number; hidden_size: number };
  assert.equal(ref.schema, 'wsflow.model-ref/2');
  assert.equal(ref.source, 'tiny');
  assert.ok(!('dir' in ref), 'no machine-specific path');
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
  const ext = externalInputsOf(kind('model'), validParams(kind('model'), { id: tiny.outDir }), { projectDir: REPO_ROOT });
  assert.ok(ext?.ok);
  assert.ok(ext.value.some((i) => i.path === join(tiny.outDir, 'model.safetensors')), 'the weights are an external input (part of the key)');
  const m = await runKind('model', { params: { id: tiny.outDir } });
  assert.deepEqual(readdirSync(m.outDir).sort(), ['model-ref.json', 'provenance.json']);
  const ref = JSON.parse(readFileSync(join(m.outDir, 'model-ref.json'), 'utf8')) as { source: string; id: string; random: boolean; fingerprint: string };
  assert.equal(ref.source, 'path');
  assert.equal(ref.id, tiny.outDir, 'an absolute path is kept as written');
  assert.equal(ref.random, false);
  assert.equal(ref.fingerprint, (JSON.parse(readFileSync(join(tiny.outDir, 'model-ref.json'), 'utf8')) as { fingerprint: string }).fingerprint, 'same files, same fingerprint');
  assert.equal(modelDirOf(m.outDir).dir, tiny.outDir);
});

/** A copy of the tiny model's files (not its model-ref.json) at `dir`. */
async function copyTinyModel(dir: string): Promise<string> {
  const tiny = await tinyModelStage();
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) cpSync(join(tiny.outDir, f), join(dir, f));
  return dir;
}

void test('model id: a project-relative model directory gives the same model-ref.json in two checkouts, each resolving its own copy', async () => {
  const a = tempDir();
  const b = tempDir();
  await copyTinyModel(join(a, 'models', 'tiny'));
  await copyTinyModel(join(b, 'models', 'tiny'));
  const ma = await runKind('model', { params: { id: 'models/tiny' }, projectDir: a });
  const mb = await runKind('model', { params: { id: 'models/tiny' }, projectDir: b });
  const refA = readFileSync(join(ma.outDir, 'model-ref.json'), 'utf8');
  assert.equal(refA, readFileSync(join(mb.outDir, 'model-ref.json'), 'utf8'), 'byte-identical: downstream keys do not depend on where the checkout is');
  assert.doesNotMatch(refA, new RegExp(a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no absolute path in the output');
  assert.equal(modelDirOf(ma.outDir, b).dir, join(b, 'models', 'tiny'), 'a consumer resolves the path against its own project');
  rmSync(join(b, 'models'), { recursive: true });
  assert.throws(() => modelDirOf(ma.outDir, b), /model-ref\.json: the model models\/tiny \(path "models\/tiny", relative to the project .*\) cannot be found on this machine/);
});

/** Run `fn` with $HF_HUB_CACHE set to `cache`. */
async function withHfCache<T>(cache: string, fn: () => T | Promise<T>): Promise<T> {
  const saved = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = cache;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = saved;
  }
}

void test('model id: a Hub id in two Hugging Face caches gives the same model-ref.json; consumers check the fingerprint', async () => {
  const rev = '0123456789abcdef0123456789abcdef01234567';
  const caches = [tempDir(), tempDir()];
  for (const c of caches) {
    await copyTinyModel(join(c, 'models--test-org--tiny-qwen3', 'snapshots', rev));
    mkdirSync(join(c, 'models--test-org--tiny-qwen3', 'refs'));
    writeFileSync(join(c, 'models--test-org--tiny-qwen3', 'refs', 'main'), `${rev}\n`);
  }
  const [c0, c1] = caches as [string, string];
  const m0 = await withHfCache(c0, () => runKind('model', { params: { id: 'test-org/tiny-qwen3' } }));
  const m1 = await withHfCache(c1, () => runKind('model', { params: { id: 'test-org/tiny-qwen3' } }));
  const ref = readFileSync(join(m0.outDir, 'model-ref.json'), 'utf8');
  assert.equal(ref, readFileSync(join(m1.outDir, 'model-ref.json'), 'utf8'), 'byte-identical under another HF cache location');
  const parsed = JSON.parse(ref) as { source: string; id: string; revision: string };
  assert.deepEqual([parsed.source, parsed.id, parsed.revision], ['hf-cache', 'test-org/tiny-qwen3', rev]);

  // the consumer resolves the snapshot in ITS cache
  const snap1 = join(c1, 'models--test-org--tiny-qwen3', 'snapshots', rev);
  assert.equal((await withHfCache(c1, () => modelDirOf(m0.outDir))).dir, snap1);
  // a changed file is named, with both hashes
  writeFileSync(join(snap1, 'generation_config.json'), '{"do_sample": false}\n');
  await assert.rejects(withHfCache(c1, () => modelDirOf(m0.outDir)), /the model test-org\/tiny-qwen3 in .* is not the one the model stage fingerprinted: generation_config\.json changed \(sha256 \w{12}… → \w{12}…\)\. Rerun the model stage/);
  // a missing snapshot says where it looked and how to get it
  rmSync(snap1, { recursive: true });
  await assert.rejects(withHfCache(c1, () => modelDirOf(m0.outDir)), /cannot be found on this machine: .*hf download test-org\/tiny-qwen3/);
});

void test('model id: a Hub id missing from the local cache is a planning error naming where it looked, the fetch command and the smoke profile', () => {
  const hub = tempDir();
  const k = kind('model');
  const saved = process.env['HF_HUB_CACHE'];
  process.env['HF_HUB_CACHE'] = hub;
  try {
    const r = externalInputsOf(k, validParams(k, { id: 'Qwen/Qwen3-0.6B' }), { projectDir: REPO_ROOT });
    assert.ok(r !== undefined && !r.ok);
    assert.equal(r.error.param, 'id');
    assert.match(r.error.message, /Qwen\/Qwen3-0\.6B/);
    assert.ok(r.error.message.includes(join(hub, 'models--Qwen--Qwen3-0.6B')), r.error.message);
    assert.match(r.error.message, /hf download Qwen\/Qwen3-0\.6B/);
    assert.match(r.error.message, /--profile smoke/);
  } finally {
    if (saved === undefined) delete process.env['HF_HUB_CACHE'];
    else process.env['HF_HUB_CACHE'] = saved;
  }
});

void test('model: exactly one of id and tiny', () => {
  const k = kind('model');
  const both = externalInputsOf(k, validParams(k, { id: 'Qwen/Qwen3-0.6B', tiny: { seed: 0 } }), { projectDir: REPO_ROOT });
  assert.ok(both !== undefined && !both.ok);
  assert.match(both.error.message, /not both/);
  const none = externalInputsOf(k, validParams(k, {}), { projectDir: REPO_ROOT });
  assert.ok(none !== undefined && !none.ok);
  assert.match(none.error.message, /give `id`/);
  assert.throws(() => validParams(k, { tiny: { seed: 0, layerz: 2 } }), /additionalProperties|layerz/);
});

void test('model input: a model-ref.json naming a vanished directory, or of an older schema, is an error naming the file', () => {
  const d = tempDir();
  writeFileSync(join(d, 'model-ref.json'), JSON.stringify({ schema: 'wsflow.model-ref/2', source: 'path', id: join(d, 'gone'), revision: null, random: false, fingerprint: 'f', files: [], num_layers: 1, hidden_size: 2 }));
  assert.throws(() => modelDirOf(d), /model-ref\.json: the model .*gone.* cannot be found on this machine: .*gone is not a directory/);
  writeFileSync(join(d, 'model-ref.json'), JSON.stringify({ schema: 'wsflow.model-ref/1', source: 'path', id: 'x', dir: '/x' }));
  assert.throws(() => modelDirOf(d), /model-ref\.json: key "schema" is "wsflow\.model-ref\/1", expected "wsflow\.model-ref\/2" .*rerun the model stage/);
  assert.throws(() => modelDirOf(tempDir()), /neither model-ref\.json nor config\.json/);
  assert.ok(upstream('m', d));
});
