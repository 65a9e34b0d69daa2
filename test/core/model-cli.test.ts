/**
 * `wsflow model tiny | inspect | logits` as a user runs them (real child processes), and the tiny model itself:
 * deterministic bytes, real tokenizer, loaded through the same code as any Hugging Face directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadQwen3, qwen3ParameterCount, writeTinyQwen3 } from '../../src/core/index.js';
import { REPO_ROOT, TINY_FIXTURE, maxAbsDiff, withTempDir } from './helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'wsflow.js');

function wsflow(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WSFLOW_BACKEND: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

void test('wsflow model tiny / inspect / logits', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'tiny');
    const made = wsflow('model', 'tiny', dir, '--seed', '3', '--layers', '2');
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /wrote tiny Qwen3 to .*: 2 layers, hidden 64, heads 4\/2, vocab 151936, seed 3, F32/);
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const again = wsflow('model', 'tiny', dir, '--seed', '3');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty/);
    assert.equal(wsflow('model', 'tiny', join(tmp, 'x'), '--seed', 'abc').code, 2);

    const insp = wsflow('model', 'inspect', dir, '--json');
    assert.equal(insp.code, 0, insp.stderr);
    const info = JSON.parse(insp.stdout) as { config: { numLayers: number }; parameterCount: number; parameterCountFromConfig: number; tokenizer: boolean; chatTemplate: boolean; tiedEmbeddings: boolean; dtypes: Record<string, number> };
    assert.equal(info.config.numLayers, 2);
    assert.equal(info.parameterCount, info.parameterCountFromConfig);
    assert.deepEqual([info.tokenizer, info.chatTemplate, info.tiedEmbeddings], [true, true, true]);
    assert.deepEqual(info.dtypes, { F32: 1 + 2 * 11 + 1 });
    const human = wsflow('model', 'inspect', dir);
    assert.match(human.stdout, /architecture {2}Qwen3ForCausalLM: 2 layers, hidden 64, MLP 128, heads 4\/2 \(GQA 2:1\), head_dim 16, vocab 151936/);
    assert.match(human.stdout, /tokenizer {5}tokenizer\.json; chat template present/);

    const lg = wsflow('model', 'logits', dir, '--text', 'Hello, how are you?', '--chat', '--no-think', '--json', '--backend', 'cpu');
    assert.equal(lg.code, 0, lg.stderr);
    assert.match(lg.stderr, /^backend: cpu/);
    const out = JSON.parse(lg.stdout) as { input_ids: number[]; logits: number[][]; backend: string };
    assert.deepEqual(out.input_ids.slice(-4), [151667, 271, 151668, 271]);
    assert.equal(out.logits.length, 1);
    assert.equal(out.logits[0]!.length, 151936);
    await initBackend('cpu');
    const { model } = await loadQwen3(dir);
    const ref = model.lastLogits([out.input_ids]);
    assert.ok(maxAbsDiff(ref.dataSync(), out.logits[0]!) < 1e-5, 'CLI logits = library logits');
    ref.dispose();
    model.dispose();
    const text = wsflow('model', 'logits', dir, '--ids', '9707,11', '--top', '3', '--backend', 'wasm');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /position 1 \(after 11 "," \(","\)\): logsumexp/);
    assert.equal(text.stdout.trim().split('\n').length, 2 + 3);
  });
});

void test('wsflow model logits reproduces the golden fixture; bad input fails cleanly', () => {
  const golden = JSON.parse(readFileSync(join(TINY_FIXTURE, 'golden.json'), 'utf8')) as { sequences: { input_ids: number[]; logits: number[][] }[] };
  const seq = golden.sequences[1]!;
  const r = wsflow('model', 'logits', TINY_FIXTURE, '--ids', seq.input_ids.join(','), '--all', '--json', '--backend', 'wasm');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { logits: number[][]; positions: number[] };
  assert.deepEqual(out.positions, seq.input_ids.map((_, i) => i));
  assert.ok(maxAbsDiff(out.logits.flat(), seq.logits.flat()) <= 1e-4);

    // a MODEL argument that names no model is a usage error (2), as a bad option is
  const cases: [string[], number, RegExp][] = [
    [['model', 'logits', '/no/such/model', '--ids', '1'], 2, /model directory \/no\/such\/model does not exist/],
    [['model', 'logits', 'Nobody/NoModel', '--ids', '1'], 2, /not in the Hugging Face cache .*hf download Nobody\/NoModel/],
    [['model', 'logits', TINY_FIXTURE, '--ids', '1,x'], 2, /--ids: "x" is not a non-negative integer/],
    [['model', 'logits', TINY_FIXTURE, '--ids', '1', '--text', 'a'], 2, /exactly one of --ids or --text/],
    [['model', 'logits', TINY_FIXTURE, '--ids', '600'], 2, /token id 600 is outside the vocabulary \[0, 512\)/],
    [['model', 'logits', TINY_FIXTURE, '--text', 'hi'], 1, /has no tokenizer\.json/],
    [['model', 'logits', TINY_FIXTURE, '--ids', '1', '--backend', 'bogus'], 2, /unknown backend "bogus"/],
    [['model', 'inspect', '/no/such/model'], 2, /does not exist/],
  ];
  for (const [args, code, re] of cases) {
    const res = wsflow(...args);
    assert.equal(res.code, code, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, re, args.join(' '));
  }
});

void test('the tiny model: deterministic bytes, layer count, BF16 storage, real tokenizer', async () => {
  await withTempDir(async (tmp) => {
    writeTinyQwen3(join(tmp, 'a'), { seed: 11, numLayers: 3 });
    writeTinyQwen3(join(tmp, 'b'), { seed: 11, numLayers: 3 });
    writeTinyQwen3(join(tmp, 'c'), { seed: 12, numLayers: 3 });
    const bytes = (d: string): Buffer => readFileSync(join(tmp, d, 'model.safetensors'));
    assert.ok(bytes('a').equals(bytes('b')), 'same seed, same bytes');
    assert.ok(!bytes('a').equals(bytes('c')), 'another seed, other bytes');
    assert.ok(existsSync(join(tmp, 'a', 'tokenizer.json')));
    assert.ok(!readdirSync(tmp).some((f) => f.includes('.tmp-')), 'no staging directory left behind');
    await initBackend('wasm');
    const { model, report } = await loadQwen3(join(tmp, 'a'));
    assert.equal(model.numLayers, 3);
    const counted = model.parameterNames().reduce((n, p) => n + model.parameterShape(p).reduce((a, b) => a * b, 1), 0);
    assert.equal(counted, qwen3ParameterCount(model.config));
    assert.equal(report.modelDir.source, 'path');
    model.dispose();
    writeTinyQwen3(join(tmp, 'bf'), { seed: 11, numLayers: 3, dtype: 'BF16' });
    const { model: bf, report: bfReport } = await loadQwen3(join(tmp, 'bf'));
    assert.deepEqual(bfReport.dtypes, { BF16: 1 + 3 * 11 + 1 });
    bf.dispose();
    assert.equal(tf.memory().numTensors, 0);
    assert.throws(() => writeTinyQwen3(join(tmp, 'a'), { seed: 1 }), /is not empty/);
  });
});
