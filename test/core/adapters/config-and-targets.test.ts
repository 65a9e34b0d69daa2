/**
 * adapter_config.json parsing (PEFT's defaults, rejected features, validation messages naming the key), PEFT's
 * target-module matching rules, OFT block-size resolution, and Python-compatible JSON output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newAdapterConfig, parseAdapterConfig, peftConfigJson } from '../../../src/core/adapters/adapter-config.js';
import type { PeftAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import { patternValue, resolveTargets, savedTargetModules } from '../../../src/core/adapters/target-modules.js';
import { adjustOftParameter, resolveOftBlocks } from '../../../src/core/adapters/oft-layer.js';
import { pythonFloatRepr, pythonJson } from '../../../src/core/adapters/py-json.js';
import { convertedPissaConfig } from '../../../src/core/adapters/attached-adapter.js';

const SUFFIXES = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];
const MODULES = Array.from({ length: 4 }, (_, l) => SUFFIXES.map((s) => `model.layers.${l}.${s}`)).flat();

function parse(raw: Record<string, unknown>): PeftAdapterConfig {
  const r = parseAdapterConfig(raw, 'adapter_config.json');
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value.config;
}

function parseError(raw: Record<string, unknown>): string {
  const r = parseAdapterConfig(raw, 'adapter_config.json');
  assert.ok(!r.ok, `expected ${JSON.stringify(raw)} to be rejected`);
  return r.error;
}

void test('PEFT defaults fill missing fields; null target_modules take the qwen3 mapping', () => {
  const lora = parse({ peft_type: 'LORA' });
  assert.equal(lora.peft_type, 'LORA');
  if (lora.peft_type !== 'LORA') return;
  assert.equal(lora.r, 8);
  assert.equal(lora.lora_alpha, 8);
  assert.deepEqual(resolveTargets(lora, MODULES, 'qwen3').map((t) => t.module.split('.').slice(2).join('.')).slice(0, 2), ['0.self_attn.q_proj', '0.self_attn.v_proj']);
  const ia3 = parse({ peft_type: 'IA3' });
  const targets = resolveTargets(ia3, MODULES, 'qwen3');
  assert.equal(targets.length, 12);
  assert.deepEqual(targets.filter((t) => t.feedforward).map((t) => t.module), MODULES.filter((m) => m.endsWith('down_proj')));
  assert.throws(() => resolveTargets(lora, MODULES, 'llama'), /model_type "qwen3"/);
});

void test('target matching: suffix lists, regex, all-linear, layers_to_transform, layers_pattern, exclude_modules', () => {
  const names = (c: Record<string, unknown>): string[] => resolveTargets(parse({ peft_type: 'LORA', ...c }), MODULES, 'qwen3').map((t) => t.module);
  assert.deepEqual(names({ target_modules: ['down_proj'], layers_to_transform: [1, 3] }), ['model.layers.1.mlp.down_proj', 'model.layers.3.mlp.down_proj']);
  assert.deepEqual(names({ target_modules: ['down_proj'], layers_to_transform: 2 }), ['model.layers.2.mlp.down_proj']);
  assert.deepEqual(names({ target_modules: ['down_proj'], layers_to_transform: [0], layers_pattern: 'layers' }), ['model.layers.0.mlp.down_proj']);
  assert.deepEqual(names({ target_modules: ['down_proj'], layers_to_transform: [0], layers_pattern: 'blocks' }), [], 'no ".blocks.N." in the names');
  assert.deepEqual(names({ target_modules: '.*\\.1\\.self_attn\\.(q|k)_proj' }), ['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.k_proj']);
  assert.equal(names({ target_modules: 'all-linear' }).length, 28);
});

void test('all-linear with layers_to_transform is rejected as PEFT does (string targets), suffix list works', () => {
  assert.match(parseError({ peft_type: 'LORA', target_modules: 'all-linear', layers_to_transform: [1] }), /layers_to_transform" cannot be used when target_modules is a regex string/);
  assert.match(parseError({ peft_type: 'LORA', target_modules: ['q_proj'], layers_pattern: 'layers' }), /layers_pattern" requires layers_to_transform/);
  const c = parse({ peft_type: 'LORA', target_modules: ['q_proj', 'down_proj'], exclude_modules: ['model.layers.0.self_attn.q_proj'] });
  assert.deepEqual(resolveTargets(c, MODULES, 'qwen3').filter((t) => t.module.includes('layers.0.')).map((t) => t.module), ['model.layers.0.mlp.down_proj']);
});

void test('rank_pattern / alpha_pattern / lambda_pattern: first matching pattern, anchored at a dot', () => {
  assert.equal(patternValue({ 'layers.1.mlp.down_proj': 4, down_proj: 16 }, 'model.layers.1.mlp.down_proj'), 4);
  assert.equal(patternValue({ down_proj: 16, 'layers.1.mlp.down_proj': 4 }, 'model.layers.1.mlp.down_proj'), 16, 'insertion order wins');
  assert.equal(patternValue({ own_proj: 16 }, 'model.layers.1.mlp.down_proj'), undefined, 'a pattern matches whole dotted segments only');
  const lora = parse({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'], rank_pattern: { v_proj: 2 }, alpha_pattern: { 'layers\\.3\\..*q_proj': 1 } });
  const t = resolveTargets(lora, MODULES, 'qwen3');
  assert.deepEqual(t.find((x) => x.module === 'model.layers.0.self_attn.v_proj'), { module: 'model.layers.0.self_attn.v_proj', r: 2, alpha: 16, lambda: 0, feedforward: false });
  assert.equal(t.find((x) => x.module === 'model.layers.3.self_attn.q_proj')?.alpha, 1);
  const delora = parse({ peft_type: 'DELORA', target_modules: ['q_proj'], lambda_pattern: { 'layers.2.self_attn.q_proj': 3 } });
  assert.equal(resolveTargets(delora, MODULES, 'qwen3').find((x) => x.module.includes('layers.2'))?.lambda, 3);
});

void test('features we do not implement are rejected, naming the key', () => {
  for (const [key, value] of [['use_qalora', true], ['lora_bias', true], ['layer_replication', [[0, 2]]], ['trainable_token_indices', [1]], ['alora_invocation_tokens', [5]], ['loftq_config', { loftq_bits: 4 }], ['modules_to_save', ['lm_head']]] as const) {
    assert.match(parseError({ peft_type: 'LORA', [key]: value }), new RegExp(`"${key}" is`));
  }
  assert.match(parseError({ peft_type: 'LORA', init_lora_weights: 'olora' }), /"init_lora_weights" is "olora"/);
  assert.match(parseError({ peft_type: 'LORA', r: 0 }), /"r" must be > 0/);
  assert.match(parseError({ peft_type: 'LORA', task_type: 'SEQ_CLS' }), /only CAUSAL_LM/);
  assert.match(parseError({ peft_type: 'VERA' }), /"peft_type" is "VERA"; supported: LORA, DELORA, OFT, IA3/);
  assert.match(parseError({ peft_type: 'OFT', r: 4, oft_block_size: 8 }), /exactly one of them must be non-zero/);
  assert.match(parseError({ peft_type: 'OFT', r: 4 }), /oft_block_size" is missing/);
  assert.match(parseError({ peft_type: 'IA3', target_modules: ['k_proj'], feedforward_modules: ['down_proj'] }), /subset of target_modules; not targeted: down_proj/);
  const w = parseAdapterConfig({ peft_type: 'LORA', fan_in_fan_out: true }, 'f.json');
  assert.ok(w.ok && w.value.warnings.some((m) => /fan_in_fan_out/.test(m)));
});

void test('OFT block size: PEFT adjust_oft_parameters (nearest divisor, ties to the smaller)', () => {
  assert.equal(adjustOftParameter(64, 32), 32);
  assert.equal(adjustOftParameter(96, 20), 16, '96: divisors 16 and 24, 20 is 4 from both: the smaller');
  assert.equal(adjustOftParameter(100, 30), 25);
  assert.equal(adjustOftParameter(64, 100), 64);
  assert.deepEqual(resolveOftBlocks(3072, 0, 32), { blockSize: 32, nBlocks: 96, adjusted: false });
  assert.deepEqual(resolveOftBlocks(96, 0, 20), { blockSize: 16, nBlocks: 6, adjusted: true });
  assert.deepEqual(resolveOftBlocks(64, 4, 0), { blockSize: 16, nBlocks: 4, adjusted: false });
});

void test('Python json.dumps formatting for adapter_config.json', () => {
  assert.equal(pythonFloatRepr(0), '0.0');
  assert.equal(pythonFloatRepr(6e-5), '6e-05');
  assert.equal(pythonFloatRepr(1e-4), '0.0001');
  assert.equal(pythonFloatRepr(2.5e-7), '2.5e-07');
  assert.equal(pythonFloatRepr(1e16), '1e+16');
  assert.equal(pythonFloatRepr(123.5), '123.5');
  assert.equal(pythonJson({ b: [1, 'é'], a: {}, c: [] }), '{\n  "a": {},\n  "b": [\n    1,\n    "\\u00e9"\n  ],\n  "c": []\n}');
  const text = peftConfigJson(newAdapterConfig('oft', { oftBlockSize: 8, targetModules: ['q_proj'] }));
  assert.match(text, /"eps": 6e-05,/);
  assert.match(text, /"module_dropout": 0.0,/);
  assert.ok(!text.endsWith('\n'));
});

void test('PiSSA conversion doubles r and alpha (rslora: alpha·√2), keeping the scaling', () => {
  const c = newAdapterConfig('pissa', { r: 4, alpha: 8 });
  if (c.peft_type !== 'LORA') throw new Error('expected LORA');
  const conv = convertedPissaConfig({ ...c, rank_pattern: { q_proj: 2 }, alpha_pattern: { q_proj: 6 } });
  assert.equal(conv.r, 8);
  assert.equal(conv.lora_alpha, 16);
  assert.equal(conv.init_lora_weights, true);
  assert.deepEqual(conv.rank_pattern, { q_proj: 4 });
  const rs = convertedPissaConfig({ ...c, use_rslora: true });
  assert.ok(Math.abs(rs.lora_alpha / Math.sqrt(rs.r) - 8 / Math.sqrt(4)) < 1e-12);
});

void test('saved target_modules are concrete: defaults resolved, all-linear as its suffixes', () => {
  const all = parse({ peft_type: 'LORA', target_modules: 'all-linear' });
  assert.deepEqual(savedTargetModules(all, resolveTargets(all, MODULES, 'qwen3'), 'qwen3').target, ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
  const ia3 = parse({ peft_type: 'IA3' });
  assert.deepEqual(savedTargetModules(ia3, resolveTargets(ia3, MODULES, 'qwen3'), 'qwen3'), { target: ['q_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] });
});
