import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mergeAdapterIntoModelDir } from '../../../src/core/adapters/merge-model-dir.js';
import { resolveModelDir } from '../../../src/core/model-dir.js';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import { DIFF_DIAGNOSTICS, DIFF_NORMS, FILES } from '../../../stages/lib/artifacts.js';
import { roundToBf16 } from '../../../stages/lib/dw-ops.js';
import { readDwOutput } from '../../../stages/lib/steer/steering.js';
import { cleanupTempDirs, readCsv, runKind, tempDir, tinyModelStage, upstream, writePerturbedAdapter, type RecordedContext } from '../helpers.js';

after(cleanupTempDirs);

function readAll(file: string): Map<string, Float32Array> {
  const f = SafetensorsFile.open(file);
  try {
    return new Map([...f.tensors.keys()].map((k) => [k, f.readFloat32(k)]));
  } finally {
    f.close();
  }
}

async function adapters(type: 'lora' | 'delora' | 'ia3' | 'oft' | 'dora' | 'pissa'): Promise<{ model: RecordedContext; pos: string; neg: string }> {
  const model = await tinyModelStage();
  const pos = await writePerturbedAdapter(model.outDir, join(tempDir(), 'pos'), type, 101);
  const neg = await writePerturbedAdapter(model.outDir, join(tempDir(), 'neg'), type, 202);
  return { model, pos, neg };
}

async function diff(a: { model: RecordedContext; pos: string; neg: string }, params: Record<string, unknown> = {}, matrix: Record<string, string | number> = { adapter: 'lora' }): Promise<RecordedContext> {
  return runKind('diff', {
    stageId: 'diff@x',
    params,
    matrix,
    inputs: { model: [upstream('model', a.model.outDir)], pos: [upstream('train_pos', a.pos)], neg: [upstream('train_neg', a.neg)] },
  });
}

void test('diff: dW = τ+ − τ− under the base parameter names equals an independent merge_and_unload of each adapter minus the base', async () => {
  const a = await adapters('lora');
  const d = await diff(a, { merge_dtype: 'f32' });
  for (const f of [FILES.dw, DIFF_NORMS.file, DIFF_DIAGNOSTICS.file, 'dw_info.json', 'provenance.json']) assert.ok(existsSync(join(d.outDir, f)), f);
  const md = resolveModelDir(a.model.outDir);
  assert.ok(md.ok);
  const merged = async (adapterDir: string): Promise<Map<string, Float32Array>> => {
    const out = join(tempDir(), 'merged');
    await mergeAdapterIntoModelDir({ model: md.value, adapterDir, outDir: out, dtype: 'F32' });
    return readAll(join(out, 'model.safetensors'));
  };
  const base = readAll(join(a.model.outDir, 'model.safetensors'));
  const mp = await merged(a.pos);
  const mn = await merged(a.neg);
  const { dw, info } = readDwOutput(d.outDir);
  assert.equal(info.adapter, 'lora');
  assert.equal(info.merge_dtype, 'f32');
  // LoRA on layers 1..2 (0.3·4 → 1, 0.8·4 → 3), all seven linear modules
  assert.equal(dw.size, 14);
  for (const name of dw.keys()) {
    assert.match(name, /^model\.layers\.[12]\.(self_attn|mlp)\.[a-z_]+_proj\.weight$/);
    assert.ok(base.has(name), `${name} is a base parameter name`);
  }
  let maxErr = 0;
  for (const [name, w] of dw) {
    const b = base.get(name) as Float32Array;
    const p = mp.get(name) as Float32Array;
    const n = mn.get(name) as Float32Array;
    for (let i = 0; i < w.length; i++) maxErr = Math.max(maxErr, Math.abs((w[i] as number) - (((p[i] as number) - (b[i] as number)) - ((n[i] as number) - (b[i] as number)))));
  }
  assert.ok(maxErr < 1e-5, `dW vs independent merge: max abs error ${maxErr}`);
  // untouched tensors are absent: layer 0 and 3, norms, embeddings
  for (const name of base.keys()) if (!/layers\.[12]\..*_proj\.weight$/.test(name)) assert.ok(!dw.has(name), `${name} is not in dW`);
  const norms = readCsv(join(d.outDir, DIFF_NORMS.file));
  assert.deepEqual(norms.header, DIFF_NORMS.columns);
  assert.equal(norms.rows.length, 14);
  const diag = readCsv(join(d.outDir, DIFF_DIAGNOSTICS.file));
  assert.deepEqual(diag.header, DIFF_DIAGNOSTICS.columns);
  assert.equal(Number(diag.rows[0]?.['n_keys']), 14);
  assert.ok(Math.abs(Number(diag.rows[0]?.['norm_dW']) - info.norm) < 1e-6 * info.norm);
  assert.ok(d.metrics.has('norm_dW') && d.metrics.has('cos_anti') && d.metrics.has(`norm_dw/${[...dw.keys()][0]}`));
  const st = SafetensorsFile.open(join(d.outDir, FILES.dw));
  try {
    assert.equal(st.metadata['merge_dtype'], 'f32');
    assert.equal(st.metadata['adapter'], 'lora');
  } finally {
    st.close();
  }
});

void test('diff: merge_dtype bf16 rounds as the study merged and records it; bisector keeps the norm of τ+ − τ−', async () => {
  const a = await adapters('lora');
  const f32 = readDwOutput((await diff(a, { merge_dtype: 'f32' })).outDir);
  const bf = await diff(a);
  const b = readDwOutput(bf.outDir);
  assert.equal(b.info.merge_dtype, 'bf16');
  for (const [name, w] of b.dw) {
    assert.deepEqual(roundToBf16(w), w, `${name}: every value is bf16-representable`);
    assert.ok(f32.dw.has(name));
  }
  const bis = readDwOutput((await diff(a, { mode: 'bisector', merge_dtype: 'f32' })).outDir);
  assert.equal(bis.info.mode, 'bisector');
  assert.ok(Math.abs(bis.info.norm - f32.info.norm) < 1e-4 * f32.info.norm, `bisector norm ${bis.info.norm} vs dW norm ${f32.info.norm}`);
});

void test('diff: labels from the matrix (seed ≠ 0 suffixed) or the adapter config; IA3 touches k/v/down in every layer', async () => {
  const a = await adapters('ia3');
  const d = await diff(a, {}, { adapter: 'ia3', seed: 1 });
  const { dw, info } = readDwOutput(d.outDir);
  assert.equal(info.adapter, 'ia3.s1');
  assert.equal(dw.size, 12, 'k_proj, v_proj, down_proj × 4 layers');
  const plain = readDwOutput((await diff(a, {}, {})).outDir);
  assert.equal(plain.info.adapter, 'ia3');
  const named = readDwOutput((await diff(a, { adapter: 'my_ia3' })).outDir);
  assert.equal(named.info.adapter, 'my_ia3');
  assert.match(readFileSync(join(d.outDir, 'dw_info.json'), 'utf8'), /"merge_note"/);
});

void test('diff: an input without an adapter is an error naming it', async () => {
  const model = await tinyModelStage();
  await assert.rejects(
    runKind('diff', { inputs: { model: [upstream('model', model.outDir)], pos: [upstream('train_pos@lora', tempDir())], neg: [upstream('train_neg@lora', tempDir())] } }),
    /input "pos": .* holds no PEFT adapter \(adapter_config\.json\)/,
  );
});
