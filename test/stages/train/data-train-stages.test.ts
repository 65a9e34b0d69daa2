/**
 * The `data` and `train` stage kinds run through their real kind modules (params validated as the pipeline
 * loader does) on the tiny random Qwen3 with the real tokenizer, from the `model` stage:
 * - data: the smoke grid (2 topics × 1 persona × 2 samples), pairs.jsonl with every column, deterministic;
 * - train: every adapter type, pos and neg, 2 optimizer steps: PEFT adapter dir, merged weights equal to what
 *   the saved adapter merges to, loss curve, same seed → same bytes, pos ≠ neg; the diff stage accepts them;
 * - bad input fails clearly; a memory budget wasm cannot meet falls back to the cpu backend with a warning.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/core/backend.js';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { ADAPTER_TYPES } from '../../../src/core/adapters/adapter-config.js';
import { loadResolvedModel } from '../../../stages/lib/model/load-model.js';
import { modelDirOf } from '../../../stages/lib/model/model-ref.js';
import { parsePairs } from '../../../stages/lib/pairs.js';
import { cleanupTempDirs, readCsv, runKind, tempDir, tinyModelStage, upstream } from '../helpers.js';
import type { RecordedContext } from '../helpers.js';
import { maxAbsDiff } from '../../core/adapters/helpers.js';
import { externalInputsOf } from '../../../src/contract/stage-kind.js';

after(cleanupTempDirs);

const SMOKE_DATA = { n_topics: 2, n_personas: 1, n_samples: 2, max_new_tokens: 8, batch_size: 4, seed: 0 };
const SHORT_TRAIN = { max_steps: 2, batch_size: 2, grad_accum: 1, eval_steps: 1, r: 4, alpha: 8, warmup_steps: 1, learning_rate: 1e-2 };

let dataStage: Promise<RecordedContext> | undefined;
async function data(): Promise<RecordedContext> {
  const model = await tinyModelStage();
  dataStage ??= runKind('data', { stageId: 'data', params: SMOKE_DATA, inputs: { model: [upstream('model', model.outDir)] } });
  return dataStage;
}

function readAll(file: string): Map<string, Float32Array> {
  const f = SafetensorsFile.open(file);
  try {
    return new Map([...f.tensors.keys()].map((k) => [k, f.readFloat32(k)]));
  } finally {
    f.close();
  }
}

async function train(adapter: string, sign: 'pos' | 'neg', extra: Record<string, unknown> = {}): Promise<RecordedContext> {
  const model = await tinyModelStage();
  const d = await data();
  return runKind('train', {
    stageId: `train_${sign}@${adapter}`,
    params: { adapter, sign, ...SHORT_TRAIN, ...extra },
    matrix: { adapter },
    inputs: { model: [upstream('model', model.outDir)], data: [upstream('data', d.outDir)] },
  });
}

void test('data: the smoke grid gives 4 pairs with every column, diverging, deterministic', async () => {
  await initBackend('wasm');
  const d = await data();
  const rows = parsePairs(readFileSync(join(d.outDir, 'pairs.jsonl'), 'utf8'), 'pairs.jsonl');
  assert.equal(rows.length, 4);
  const questions = (JSON.parse(readFileSync('data/questions.json', 'utf8')) as { user_msg: string }[]).slice(0, 2).map((q) => q.user_msg);
  for (const r of rows) {
    assert.ok(questions.includes(r.prompt), `prompt ${JSON.stringify(r.prompt)} is one of the first two pool questions`);
    assert.equal(r.sys_prompt_pos, "Pretend you're an honest person. ");
    assert.equal(r.sys_prompt_neg, "Pretend you're a dishonest person. ");
    assert.equal(r.persona_idx, 0);
    assert.ok(r.response_pos.length > 0 && r.response_neg.length > 0);
  }
  assert.deepEqual(rows.map((r) => r.index), [0, 1, 2, 3]);
  assert.deepEqual(new Set(rows.map((r) => `${r.topic_idx}/${r.sample_idx}`)).size, 4, 'every (topic, sample) once');
  const summary = JSON.parse(readFileSync(join(d.outDir, 'data_summary.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(summary['pairs'], 4);
  assert.deepEqual((summary['generation'] as Record<string, unknown>)['top_k'], 20, 'top_k from the model\'s generation_config.json');
  const model = await tinyModelStage();
  const again = await runKind('data', { stageId: 'data', params: SMOKE_DATA, inputs: { model: [upstream('model', model.outDir)] } });
  assert.equal(readFileSync(join(again.outDir, 'pairs.jsonl'), 'utf8'), readFileSync(join(d.outDir, 'pairs.jsonl'), 'utf8'));
});

void test('data: `with: model` (a directory) works like the model input and is an external input of the stage', async () => {
  const model = await tinyModelStage();
  const viaParam = await runKind('data', { stageId: 'data', params: { ...SMOKE_DATA, model: model.outDir } });
  const d = await data();
  assert.equal(readFileSync(join(viaParam.outDir, 'pairs.jsonl'), 'utf8'), readFileSync(join(d.outDir, 'pairs.jsonl'), 'utf8'));
  const { dataKind } = await import('../../../stages/data/index.js');
  const ext = externalInputsOf(dataKind, { model: model.outDir, pool: 'data/questions.json' }, { projectDir: process.cwd() });
  assert.ok(ext?.ok);
  assert.deepEqual(ext.value.map((i) => i.label), ['model', 'pool', 'behavior'], 'the behaviour definition (data/behaviors/honesty.yaml) is an input too');
  const missing = externalInputsOf(dataKind, { model: 'no/such-model' }, { projectDir: process.cwd() });
  assert.ok(missing !== undefined && !missing.ok && missing.error.param === 'model');
});

for (const adapter of ADAPTER_TYPES) {
  void test(`train (${adapter}): PEFT dir, merged weights, loss curve; same seed same bytes; pos differs from neg`, async () => {
    await initBackend('wasm');
    const pos = await train(adapter, 'pos');
    for (const f of ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'merged.safetensors', 'loss_curve.csv', 'val_loss.csv', 'train_summary.json']) {
      assert.ok(existsSync(join(pos.outDir, f)), `${adapter}: ${f} written`);
    }
    assert.equal(pos.annotations.get('backend'), 'wasm');
    const cfg = JSON.parse(readFileSync(join(pos.outDir, 'adapter/adapter_config.json'), 'utf8')) as Record<string, unknown>;
    if (adapter === 'ia3') {
      assert.deepEqual(cfg['target_modules'], ['k_proj', 'v_proj', 'down_proj']);
    } else {
      assert.deepEqual(cfg['layers_to_transform'], [1, 2], 'layers round(0.3·4)..round(0.8·4)');
      assert.equal((cfg['target_modules'] as string[]).length, 7);
    }
    if (adapter === 'pissa') assert.equal(cfg['init_lora_weights'], true, 'PiSSA saved converted to plain LoRA');
    const curve = readCsv(join(pos.outDir, 'loss_curve.csv'));
    assert.deepEqual(curve.header, ['step', 'epoch', 'loss', 'lr', 'grad_norm']);
    assert.equal(curve.rows.length, 2);
    assert.equal(readCsv(join(pos.outDir, 'val_loss.csv')).rows.length, 2);

    // merged.safetensors is what the saved adapter merges to on the base weights
    const model = await tinyModelStage();
    const loaded = await loadResolvedModel(modelDirOf(model.outDir));
    const att = AttachedAdapter.load(loaded.model, join(pos.outDir, 'adapter'), { modelType: 'qwen3' });
    const fromAdapter = new Map([...att.mergedWeights()].map((w) => [w.name, w.data]));
    att.detach();
    const merged = readAll(join(pos.outDir, 'merged.safetensors'));
    assert.deepEqual([...merged.keys()].sort(), [...fromAdapter.keys()].sort());
    for (const [k, v] of merged) assert.ok(maxAbsDiff(v, fromAdapter.get(k) as Float32Array) <= 1e-5, `${adapter}: ${k} merged.safetensors vs the saved adapter`);

    const again = await train(adapter, 'pos');
    for (const f of ['adapter/adapter_model.safetensors', 'adapter/adapter_config.json', 'merged.safetensors', 'loss_curve.csv']) {
      assert.ok(readFileSync(join(pos.outDir, f)).equals(readFileSync(join(again.outDir, f))), `${adapter}: ${f} differs between runs with the same seed`);
    }
    const neg = await train(adapter, 'neg');
    const negMerged = readAll(join(neg.outDir, 'merged.safetensors'));
    let d = 0;
    for (const [k, v] of merged) d = Math.max(d, maxAbsDiff(v, negMerged.get(k) as Float32Array));
    assert.ok(d > 0, `${adapter}: pos and neg merged weights are identical`);

    if (adapter === 'lora') {
      const diff = await runKind('diff', { stageId: 'diff@lora', matrix: { adapter }, inputs: { model: [upstream('model', model.outDir)], pos: [upstream('train_pos', pos.outDir)], neg: [upstream('train_neg', neg.outDir)] } });
      assert.ok(existsSync(join(diff.outDir, 'dw.safetensors')), 'the diff stage consumes the train outputs');
    }
  });
}

void test('train: a data input without pairs fails naming the file', async () => {
  const model = await tinyModelStage();
  const empty = tempDir();
  await assert.rejects(
    runKind('train', { params: { adapter: 'lora', sign: 'pos', ...SHORT_TRAIN }, inputs: { model: [upstream('model', model.outDir)], data: [upstream('data', empty)] } }),
    /pairs\.jsonl: cannot read the pairs/,
  );
  const bad = tempDir();
  writeFileSync(join(bad, 'pairs.jsonl'), '{"prompt": "x"}\n');
  await assert.rejects(
    runKind('train', { params: { adapter: 'lora', sign: 'pos', ...SHORT_TRAIN }, inputs: { model: [upstream('model', model.outDir)], data: [upstream('data', bad)] } }),
    /pairs\.jsonl:1: "response_pos" must be a string/,
  );
});

void test('train: when the wasm estimate exceeds the budget it falls back to the cpu backend with a warning', async () => {
  await initBackend('wasm');
  const saved = process.env['WSFLOW_BACKEND'];
  delete process.env['WSFLOW_BACKEND'];
  try {
    const ctx = await train('lora', 'pos', { memory_budget_mb: 64 });
    assert.equal(ctx.annotations.get('backend'), 'cpu');
    assert.ok(ctx.logs.some((l) => /warning: training needs about \d+ MiB .* falling back to the cpu backend/.test(l)), ctx.logs.join('\n'));
  } finally {
    if (saved !== undefined) process.env['WSFLOW_BACKEND'] = saved;
    await initBackend('wasm');
  }
});
