/**
 * Every malformed checkpoint or config gives a clear error naming the file and the tensor or key, and nothing
 * crashes; sharded checkpoints load; BF16 and F16 widen to float32 exactly; model references resolve from a
 * path or the Hugging Face cache layout, and a missing model says where we looked and how to get it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  SafetensorsFile, bf16ToFloat32, float32ToBf16, initBackend, loadQwen3, parseQwen3Config, resolveModelDir, writeSafetensors,
  type TensorToWrite,
} from '../../src/core/index.js';
import { TINY_FIXTURE, maxAbsDiff, withTempDir } from './helpers.js';

const FIXTURE_WEIGHTS = join(TINY_FIXTURE, 'model.safetensors');
const FIXTURE_CONFIG = JSON.parse(readFileSync(join(TINY_FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;

/** Raw safetensors bytes from a header object and a data buffer (no validation: for malformed files). */
function rawSafetensors(header: unknown, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(data)]);
}

function fixtureTensors(): TensorToWrite[] {
  const f = SafetensorsFile.open(FIXTURE_WEIGHTS);
  try {
    return [...f.tensors.values()].map((t) => ({ name: t.name, shape: t.shape, data: f.readFloat32(t.name) }));
  } finally {
    f.close();
  }
}

function modelDir(root: string, name: string, tensors: TensorToWrite[] | null, config: unknown = FIXTURE_CONFIG): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (tensors !== null) writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

void test('malformed safetensors files name the file and the tensor', () => {
  withTempDir((tmp) => {
    const cases: [string, Buffer, RegExp][] = [
      ['short.safetensors', Buffer.from([1, 2, 3]), /short\.safetensors: file is 3 bytes, too short/],
      ['headerlen.safetensors', Buffer.concat([Buffer.from([200, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')]), /headerlen\.safetensors: header length 200 runs past the end of the 10-byte file \(truncated\?\)/],
      ['huge.safetensors', Buffer.from([255, 255, 255, 255, 255, 255, 255, 255, 0]), /huge\.safetensors: header length \d+ exceeds/],
      ['notjson.safetensors', Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{nope')]), /notjson\.safetensors: header is not valid JSON/],
      ['outside.safetensors', rawSafetensors({ w: { dtype: 'F32', shape: [250], data_offsets: [0, 1000] } }, new Uint8Array(16)), /outside\.safetensors: tensor "w": data_offsets \[0, 1000\] lie outside the 16-byte data buffer/],
      ['dtype.safetensors', rawSafetensors({ w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype\.safetensors: tensor "w": unknown dtype "F17"/],
      ['fp8.safetensors', rawSafetensors({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)), /fp8\.safetensors: tensor "w": dtype F8_E4M3 is not supported/],
      ['size.safetensors', rawSafetensors({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)), /size\.safetensors: tensor "w": shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] span 20/],
      ['gap.safetensors', rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)), /gap\.safetensors: tensor "b": data_offsets \[8, 12\] are not contiguous/],
      ['trailing.safetensors', rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(9)), /trailing\.safetensors: data buffer is 9 bytes but tensors cover 4/],
      ['shape.safetensors', rawSafetensors({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /shape\.safetensors: tensor "a": "shape" must be an array of non-negative integers/],
    ];
    for (const [name, bytes, re] of cases) {
      const p = join(tmp, name);
      writeFileSync(p, bytes);
      assert.throws(() => SafetensorsFile.open(p), re, name);
    }
    // a real checkpoint cut short: the tensor that no longer fits is named
    const full = readFileSync(FIXTURE_WEIGHTS);
    const cut = join(tmp, 'cut.safetensors');
    writeFileSync(cut, full.subarray(0, full.length - 100));
    assert.throws(() => SafetensorsFile.open(cut), /cut\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] lie outside the \d+-byte data buffer \(truncated file\?\)/);
  });
});

void test('checkpoint/config mismatches fail at load with file and tensor named; nothing is left allocated', async () => {
  await initBackend('cpu');
  await withTempDir(async (tmp) => {
    const tensors = fixtureTensors();
    const missing = modelDir(tmp, 'missing', tensors.filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight'));
    await assert.rejects(loadQwen3(missing), /missing: checkpoint does not match config\.json:\n {2}tensor "model\.layers\.1\.mlp\.up_proj\.weight" is missing \(expected shape \[128, 64\]/);
    const wrongShape = modelDir(tmp, 'shape', tensors.map((t) => (t.name === 'model.layers.0.self_attn.k_norm.weight' ? { ...t, shape: [8, 2] } : t)));
    await assert.rejects(loadQwen3(wrongShape), /shape[/\\]model\.safetensors: tensor "model\.layers\.0\.self_attn\.k_norm\.weight" has shape \[8, 2\] but config\.json implies \[16\]/);
    const cut = modelDir(tmp, 'cut', null);
    const full = readFileSync(FIXTURE_WEIGHTS);
    writeFileSync(join(cut, 'model.safetensors'), full.subarray(0, full.length - 7));
    await assert.rejects(loadQwen3(cut), /cut[/\\]model\.safetensors: tensor "[^"]+": data_offsets .* \(truncated file\?\)/);
    const intDir = modelDir(tmp, 'int', null);
    const f = SafetensorsFile.open(FIXTURE_WEIGHTS);
    const header: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let off = 0;
    for (const t of f.tensors.values()) {
      const b = f.readBytes(t.name);
      header[t.name] = { dtype: t.name === 'model.norm.weight' ? 'I32' : t.dtype, shape: t.shape, data_offsets: [off, off + b.length] };
      chunks.push(b);
      off += b.length;
    }
    f.close();
    writeFileSync(join(intDir, 'model.safetensors'), rawSafetensors(header, Buffer.concat(chunks)));
    await assert.rejects(loadQwen3(intDir), /int[/\\]model\.safetensors: tensor "model\.norm\.weight" has dtype I32; weights must be F32, F16, BF16 or F64/);
    assert.equal(tf.memory().numTensors, 0);

    const badConfigs: [unknown, RegExp][] = [
      ['{not json', /config\.json: not valid JSON/],
      [{ ...FIXTURE_CONFIG, hidden_size: '64' }, /config\.json: "hidden_size" must be a positive integer, got "64"/],
      [{ ...FIXTURE_CONFIG, vocab_size: undefined }, /config\.json: "vocab_size" must be a positive integer, got undefined/],
      [{ ...FIXTURE_CONFIG, num_attention_heads: 3 }, /"num_attention_heads" \(3\) must be a multiple of "num_key_value_heads" \(2\)/],
      [{ ...FIXTURE_CONFIG, model_type: 'llama' }, /"model_type" is "llama"; wsflow implements Qwen3 only/],
      [{ ...FIXTURE_CONFIG, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /"rope_scaling" .* is not supported/],
      [{ ...FIXTURE_CONFIG, use_sliding_window: true }, /"use_sliding_window": true is not supported/],
      [{ ...FIXTURE_CONFIG, hidden_act: 'gelu' }, /"hidden_act" "gelu" is not supported/],
      [{ ...FIXTURE_CONFIG, tie_word_embeddings: 'yes' }, /"tie_word_embeddings" must be true or false/],
      [{ ...FIXTURE_CONFIG, eos_token_id: 'x' }, /"eos_token_id" must be an integer or a list of integers/],
      [{ ...FIXTURE_CONFIG, rms_norm_eps: -1 }, /"rms_norm_eps" must be a positive number/],
    ];
    let i = 0;
    for (const [cfg, re] of badConfigs) {
      const dir = modelDir(tmp, `cfg${i++}`, null, cfg);
      copyFileSync(FIXTURE_WEIGHTS, join(dir, 'model.safetensors'));
      await assert.rejects(loadQwen3(dir), (e: Error) => re.test(e.message) && e.message.includes(join(dir, 'config.json')), `config case ${i}`);
    }
    assert.equal(tf.memory().numTensors, 0);
  });
});

void test('config variants transformers accepts', () => {
  const v5 = parseQwen3Config({ ...FIXTURE_CONFIG, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5000 } });
  assert.ok(v5.ok && v5.value.ropeTheta === 5000);
  const noHeadDim = parseQwen3Config({ ...FIXTURE_CONFIG, head_dim: undefined });
  assert.ok(noHeadDim.ok && noHeadDim.value.headDim === 16);
  const untiedDefault = parseQwen3Config({ ...FIXTURE_CONFIG, tie_word_embeddings: undefined });
  assert.ok(untiedDefault.ok && untiedDefault.value.tieWordEmbeddings === false, "Qwen3Config's default is untied");
  const eosList = parseQwen3Config({ ...FIXTURE_CONFIG, eos_token_id: [151645, 151643] });
  assert.ok(eosList.ok && eosList.value.eosTokenIds.length === 2);
});

void test('sharded checkpoints load and give the same logits; broken indexes are named', async () => {
  await initBackend('cpu');
  await withTempDir(async (tmp) => {
    const tensors = fixtureTensors();
    const dir = modelDir(tmp, 'sharded', null);
    const half = Math.ceil(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((s, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), s);
      for (const t of s) weightMap[t.name] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const before = tf.memory().numTensors;
    const { model } = await loadQwen3(dir);
    const { model: ref } = await loadQwen3(TINY_FIXTURE);
    const ids = [[5, 17, 3, 99, 230]];
    const a = model.logits(ids);
    const b = ref.logits(ids);
    assert.equal(maxAbsDiff(a.dataSync(), b.dataSync()), 0);
    tf.dispose([a, b]);
    model.dispose();
    ref.dispose();

    const moved = { ...weightMap, 'model.norm.weight': 'model-00001-of-00002.safetensors' };
    const wrongShard = modelDir(tmp, 'wrongshard', null);
    for (const f of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(join(dir, f), join(wrongShard, f));
    writeFileSync(join(wrongShard, 'model.safetensors.index.json'), JSON.stringify({ weight_map: moved }));
    await assert.rejects(loadQwen3(wrongShard), /model\.safetensors\.index\.json: tensor "model\.norm\.weight": the index places this tensor in .*model-00001-of-00002\.safetensors, which does not contain it/);
    const lost = modelDir(tmp, 'lostshard', null);
    copyFileSync(join(dir, 'model-00001-of-00002.safetensors'), join(lost, 'model-00001-of-00002.safetensors'));
    copyFileSync(join(dir, 'model.safetensors.index.json'), join(lost, 'model.safetensors.index.json'));
    await assert.rejects(loadQwen3(lost), /names shard model-00002-of-00002\.safetensors, which is missing/);
    assert.equal(tf.memory().numTensors, before);
  });
});

void test('BF16 and F16 widen to float32 exactly, and a BF16 model computes with the widened values', async () => {
  await withTempDir(async (tmp) => {
    // F16 bit patterns with known values
    const halfBits = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0x8000, 0x3555]);
    const halfWant = [1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -0, 0.333251953125];
    const f16 = join(tmp, 'f16.safetensors');
    writeFileSync(f16, rawSafetensors({ h: { dtype: 'F16', shape: [8], data_offsets: [0, 16] } }, new Uint8Array(halfBits.buffer)));
    const hv = SafetensorsFile.open(f16);
    assert.deepEqual([...hv.readFloat32('h')], halfWant);
    hv.close();
    // BF16: the 16 bits are the top half of the float32
    const bfBits = Uint16Array.from([0x3f80, 0xc049, 0x0001, 0x7f80, 0xff7f]);
    const bf = join(tmp, 'bf16.safetensors');
    writeFileSync(bf, rawSafetensors({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, new Uint8Array(bfBits.buffer)));
    const bv = SafetensorsFile.open(bf);
    const got = bv.readFloat32('b');
    bv.close();
    const u32 = new Uint32Array(got.buffer);
    assert.deepEqual([...u32], [...bfBits].map((b) => (b << 16) >>> 0));
    assert.deepEqual([...got].slice(0, 2), [1, -3.140625]);
    // round-to-nearest-even on write, exact on read
    const x = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.1]);
    assert.deepEqual([...bf16ToFloat32(float32ToBf16(x))], [1, 1 + 2 ** -6, -0.10009765625]);

    // a BF16 copy of the fixture = an F32 model holding the bf16-rounded values, exactly
    await initBackend('cpu');
    const tensors = fixtureTensors();
    const bfDir = modelDir(tmp, 'bf16model', tensors.map((t) => ({ ...t, dtype: 'BF16' as const })));
    const rounded = modelDir(tmp, 'rounded', tensors.map((t) => ({ ...t, data: bf16ToFloat32(float32ToBf16(t.data)) })));
    const { model: m1, report } = await loadQwen3(bfDir);
    assert.deepEqual(report.dtypes, { BF16: tensors.length });
    const { model: m2 } = await loadQwen3(rounded);
    const a = m1.logits([[5, 17, 3, 99]]);
    const b = m2.logits([[5, 17, 3, 99]]);
    assert.equal(maxAbsDiff(a.dataSync(), b.dataSync()), 0);
    tf.dispose([a, b]);
    m1.dispose();
    m2.dispose();
  });
});

void test('model references: path, Hugging Face cache layout, clear errors when missing', () => {
  withTempDir((tmp) => {
    const hfHome = join(tmp, 'hf');
    const repo = join(hfHome, 'hub', 'models--Qwen--Qwen3-Tiny');
    const rev = 'a'.repeat(40);
    const snap = join(repo, 'snapshots', rev);
    mkdirSync(snap, { recursive: true });
    mkdirSync(join(repo, 'refs'), { recursive: true });
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    // huggingface_hub stores blobs and symlinks them into the snapshot
    copyFileSync(FIXTURE_WEIGHTS, join(repo, 'blobs', 'weights'));
    symlinkSync(join(repo, 'blobs', 'weights'), join(snap, 'model.safetensors'));
    copyFileSync(join(TINY_FIXTURE, 'config.json'), join(snap, 'config.json'));
    writeFileSync(join(repo, 'refs', 'main'), `${rev}\n`);
    const env = { HF_HOME: hfHome };
    const r = resolveModelDir('Qwen/Qwen3-Tiny', { env, baseDir: tmp });
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.equal(r.value.dir, snap);
    assert.equal(r.value.source, 'hf-cache');
    assert.equal(r.value.revision, rev);
    assert.deepEqual(r.value.files.map((f) => f.slice(snap.length + 1)).sort(), ['config.json', 'model.safetensors']);
    const byRev = resolveModelDir(`Qwen/Qwen3-Tiny@${rev}`, { env, baseDir: tmp });
    assert.ok(byRev.ok && byRev.value.dir === snap);
    const hubCache = resolveModelDir('Qwen/Qwen3-Tiny', { env: { HF_HUB_CACHE: join(hfHome, 'hub') }, baseDir: tmp });
    assert.ok(hubCache.ok);

    const missing = resolveModelDir('Qwen/Qwen3-0.6B', { env, baseDir: tmp });
    assert.ok(!missing.ok);
    assert.match(missing.error, /model "Qwen\/Qwen3-0\.6B" is not a local directory and is not in the Hugging Face cache \(looked for .*models--Qwen--Qwen3-0\.6B/);
    assert.match(missing.error, /hf download Qwen\/Qwen3-0\.6B/);
    const badRev = resolveModelDir('Qwen/Qwen3-Tiny@v9', { env, baseDir: tmp });
    assert.ok(!badRev.ok && /revision "v9" not found/.test(badRev.error));

    const local = resolveModelDir(TINY_FIXTURE);
    assert.ok(local.ok && local.value.source === 'path');
    const noDir = resolveModelDir('./nope/model', { baseDir: tmp });
    assert.ok(!noDir.ok && /model directory .*nope[/\\]model does not exist/.test(noDir.error));
    const noConfig = join(tmp, 'noconfig');
    mkdirSync(noConfig);
    const nc = resolveModelDir(noConfig);
    assert.ok(!nc.ok && /has no config\.json/.test(nc.error));
    const binOnly = join(tmp, 'binonly');
    mkdirSync(binOnly);
    writeFileSync(join(binOnly, 'config.json'), '{}');
    writeFileSync(join(binOnly, 'pytorch_model.bin'), 'x');
    const bo = resolveModelDir(binOnly);
    assert.ok(!bo.ok && /only safetensors checkpoints are supported/.test(bo.error));
  });
});
