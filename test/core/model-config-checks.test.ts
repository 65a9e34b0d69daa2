/**
 * A model directory whose config.json contradicts its weights is refused from the headers alone, with one line
 * naming the config key and the tensor (issue 12: a config claiming 1,000,000 layers made `model logits` use
 * 3.7 GB and hang; `inspect` exited 0). Bad `--ids` are usage errors (exit 2) found before any weight is read.
 * Real tiny Qwen3 directories, real child processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Checkpoint } from '../../src/core/checkpoint.js';
import { initBackend, loadQwen3, writeTinyQwen3 } from '../../src/core/index.js';
import { resolveModelDir } from '../../src/core/model-dir.js';
import { readQwen3Config } from '../../src/core/qwen3/config.js';
import { checkConfigAgainstWeights } from '../../src/core/qwen3/config-vs-weights.js';
import { REPO_ROOT, withTempDir } from './helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'wsflow.js');

function wsflow(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WSFLOW_BACKEND: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of `source` whose config.json has `changes` applied. */
function withConfig(source: string, target: string, changes: Record<string, unknown>): string {
  cpSync(source, target, { recursive: true });
  const file = join(target, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...config, ...changes }));
  return target;
}

void test('a config that contradicts the weights: inspect and logits fail with one line naming key and tensor', async () => {
  await withTempDir(async (tmp) => {
    const good = join(tmp, 'good');
    writeTinyQwen3(good, { seed: 1, numLayers: 2 });
    const weights = join(tmp, '%s', 'model.safetensors');
    const cases: [Record<string, unknown>, string][] = [
      [{ num_hidden_layers: 1_000_000 }, '"num_hidden_layers" is 1000000, but the checkpoint has layers 0 to 1 only (no tensor "model.layers.2.input_layernorm.weight")'],
      [{ vocab_size: 1000 }, `"vocab_size" is 1000, but tensor "model.embed_tokens.weight" in ${weights} has shape [151936, 64] (config.json implies [1000, 64])`],
      [{ hidden_size: 128 }, `"hidden_size" is 128, but tensor "model.embed_tokens.weight" in ${weights} has shape [151936, 64] (config.json implies [151936, 128])`],
      [{ intermediate_size: 999 }, `"intermediate_size" is 999, but tensor "model.layers.0.mlp.gate_proj.weight" in ${weights} has shape [128, 64] (config.json implies [999, 64])`],
      [{ num_attention_heads: 8 }, `"num_attention_heads" is 8, but tensor "model.layers.0.self_attn.q_proj.weight" in ${weights} has shape [64, 64] (config.json implies [128, 64])`],
      [{ num_key_value_heads: 4 }, `"num_key_value_heads" is 4, but tensor "model.layers.0.self_attn.k_proj.weight" in ${weights} has shape [32, 64] (config.json implies [64, 64])`],
      [{ head_dim: 32 }, `"head_dim" is 32, but tensor "model.layers.0.self_attn.q_norm.weight" in ${weights} has shape [16] (config.json implies [32])`],
      [{ tie_word_embeddings: false }, '"tie_word_embeddings" is false, but the checkpoint has no tensor "lm_head.weight" (a tied checkpoint? set it to true)'],
    ];
    for (const [i, [changes, message]] of cases.entries()) {
      const name = `bad${i}`;
      const dir = withConfig(good, join(tmp, name), changes);
      const expected = `error: ${join(dir, 'config.json')}: ${message.replace('%s', name)}\n`;
      for (const args of [['inspect', dir], ['inspect', dir, '--json'], ['logits', dir, '--ids', '1,2', '--backend', 'cpu']]) {
        const r = wsflow('model', ...args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, expected, args.join(' '));
        assert.equal(r.stdout, '');
      }
    }

    // the library path stages use refuses the same way, before any tensor is allocated
    await initBackend('cpu');
    const huge = join(tmp, 'bad0');
    await assert.rejects(loadQwen3(huge), { message: `${join(huge, 'config.json')}: ${cases[0]![1]}` });

    // fewer layers than the checkpoint holds is allowed, as in transformers: the rest are unused tensors
    const fewer = withConfig(good, join(tmp, 'fewer'), { num_hidden_layers: 1 });
    const r = wsflow('model', 'inspect', fewer, '--json');
    assert.equal(r.code, 0, r.stderr);
    const unused = (JSON.parse(r.stdout) as { unusedTensors: string[] }).unusedTensors;
    assert.equal(unused.length, 11);
    assert.ok(unused.every((n) => n.startsWith('model.layers.1.')));
  });
});

void test('checkConfigAgainstWeights reads headers only and passes a consistent directory', () => {
  withTempDir((tmp) => {
    const dir = join(tmp, 'm');
    writeTinyQwen3(dir, { seed: 2, numLayers: 3, dtype: 'BF16' });
    const md = resolveModelDir(dir);
    const config = readQwen3Config(dir);
    assert.ok(md.ok && config.ok);
    const ckpt = Checkpoint.openDir(dir, md.value.weightFiles, md.value.indexFile);
    try {
      assert.deepEqual(checkConfigAgainstWeights(config.value, ckpt, join(dir, 'config.json')), { ok: true, value: undefined });
    } finally {
      ckpt.close();
    }
  });
});

void test('--ids: empty items, ids beyond 2^53 or the vocabulary are usage errors; past max positions is a warning', async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, 'tiny');
    writeTinyQwen3(dir, { seed: 4, numLayers: 1 });
    const usage: [string, string][] = [
      ['1,,2', '--ids: item 2 of "1,,2" is empty; separate ids with single commas, e.g. --ids 9707,11'],
      [',1', '--ids: item 1 of ",1" is empty; separate ids with single commas, e.g. --ids 9707,11'],
      ['1,', '--ids: item 2 of "1," is empty; separate ids with single commas, e.g. --ids 9707,11'],
      ['9007199254740993', '--ids: 9007199254740993 is beyond 2^53 and cannot be a token id'],
      ['1,151936', `token id 151936 is outside the vocabulary [0, 151936) of ${join(dir, 'config.json')}`],
      ['-1', '--ids: "-1" is not a non-negative integer'],
    ];
    for (const [ids, message] of usage) {
      const r = wsflow('model', 'logits', dir, `--ids=${ids}`, '--backend', 'cpu');
      assert.equal(r.code, 2, `--ids ${ids}: ${r.stderr}`);
      assert.equal(r.stderr, `error: ${message}\n`, `--ids ${ids}`);
      assert.equal(r.stdout, '');
    }

    // transformers' tokenizer warns past model_max_length and Qwen3's RoPE takes any position: so do we
    const short = withConfig(dir, join(tmp, 'short'), { max_position_embeddings: 4 });
    const r = wsflow('model', 'logits', short, '--ids', '1,2,3,4,5', '--backend', 'cpu', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^warning: 5 token ids, more than "max_position_embeddings" 4 in ${join(short, 'config.json').replaceAll('/', '\\/')}: positions past it were never trained, so these logits extrapolate\n`),
    );
    assert.equal((JSON.parse(r.stdout) as { input_ids: number[] }).input_ids.length, 5);
    const within = wsflow('model', 'logits', short, '--ids', '1,2,3,4', '--backend', 'cpu', '--json');
    assert.equal(within.code, 0, within.stderr);
    assert.doesNotMatch(within.stderr, /warning/);
  });
});
