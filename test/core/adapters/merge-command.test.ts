/**
 * `wsflow adapter merge` as a real child process: for every adapter type the merged model directory loads and
 * gives the adapter's golden logits within 1e-4; bad input gets a clear error, a non-zero exit, and no output
 * directory.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import { assertClose, FIXTURES, readJson, TINY_MODEL, useBackend } from './helpers.js';

const REPO = join(FIXTURES, '..', '..');
const CLI = join(REPO, 'bin', 'wsflow.js');

function wsflow(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, WSFLOW_BACKEND: 'cpu' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Golden {
  tolerance: { logits_atol: number };
  sequences: { input_ids: number[]; logits: number[][] }[];
}

const work = mkdtempSync(join(tmpdir(), 'wsflow-merge-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

before(async () => {
  await useBackend('cpu');
});

for (const method of ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3']) {
  void test(`adapter merge (${method}): the merged directory gives the adapter's golden logits`, async () => {
    const adapterDir = join(FIXTURES, 'adapters', `qwen3-tiny-${method}`);
    const out = join(work, method);
    const r = wsflow(['adapter', 'merge', '--model', TINY_MODEL, '--adapter', adapterDir, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /merged \w+ adapter into \d+ weights/);
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.safetensors']);
    const f = SafetensorsFile.open(join(out, 'model.safetensors'));
    assert.deepEqual(f.metadata, { format: 'pt' });
    f.close();
    const golden = readJson<Golden>(join(adapterDir, 'golden.json'));
    const { model } = await loadQwen3(out);
    try {
      golden.sequences.forEach((s, i) => {
        const t = model.logits([s.input_ids]);
        assertClose(t.dataSync(), s.logits.flat(), golden.tolerance.logits_atol, `${method} merged model, sequence ${i}`);
        t.dispose();
      });
    } finally {
      model.dispose();
    }
    if (method === 'lora' || method === 'pissa') {
      // `wsflow model logits` works on the merged directory
      const seq = golden.sequences[golden.sequences.length - 1] as { input_ids: number[]; logits: number[][] };
      const l = wsflow(['model', 'logits', out, '--ids', seq.input_ids.join(','), '--all', '--json', '--backend', 'cpu']);
      assert.equal(l.status, 0, l.stderr);
      const parsed = JSON.parse(l.stdout) as { logits: number[][] };
      assertClose(parsed.logits.flat(), seq.logits.flat(), golden.tolerance.logits_atol, `${method}: wsflow model logits on the merged directory`);
    }
  });
}

void test('adapter merge: tokenizer and generation files travel with the weights; bf16 output', () => {
  const base = join(work, 'base-with-tokenizer');
  cpSync(TINY_MODEL, base, { recursive: true });
  writeFileSync(join(base, 'tokenizer_config.json'), '{"chat_template": "x"}');
  writeFileSync(join(base, 'generation_config.json'), '{"do_sample": true}');
  const out = join(work, 'bf16');
  const r = wsflow(['adapter', 'merge', '--model', base, '--adapter', join(FIXTURES, 'adapters', 'qwen3-tiny-lora'), '--out', out, '--dtype', 'bfloat16']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer_config.json']);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(cfg['torch_dtype'], 'bfloat16');
  const f = SafetensorsFile.open(join(out, 'model.safetensors'));
  assert.ok([...f.tensors.values()].every((t) => t.dtype === 'BF16'));
  f.close();
});

void test('adapter merge: bad input fails with the culprit named and writes nothing', () => {
  const cases: { args: string[]; message: RegExp; out: string }[] = [];
  // a path that is not there is a usage error (exit 2, test/cli/exit-codes.test.ts); one that is there but wrong is 1
  const missing = join(work, 'no-such-adapter');
  const gone = wsflow(['adapter', 'merge', '--model', TINY_MODEL, '--out', join(work, 'o1'), '--adapter', missing]);
  assert.equal(gone.status, 2);
  assert.match(gone.stderr, /no-such-adapter is not a directory/);
  assert.equal(existsSync(join(work, 'o1')), false);
  // an adapter whose tensor has the wrong shape
  const broken = join(work, 'broken-adapter');
  mkdirSync(broken);
  const src = join(FIXTURES, 'adapters', 'qwen3-tiny-lora');
  const cfg = JSON.parse(readFileSync(join(src, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(broken, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 4 }));
  copyFileSync(join(src, 'adapter_model.safetensors'), join(broken, 'adapter_model.safetensors'));
  cases.push({ args: ['--adapter', broken], message: /lora_A\.weight" has shape \[8, 64\], expected \[4, 64\]/, out: join(work, 'o2') });
  // a config key we do not support
  const unsupported = join(work, 'unsupported-adapter');
  mkdirSync(unsupported);
  writeFileSync(join(unsupported, 'adapter_config.json'), JSON.stringify({ ...cfg, use_qalora: true }));
  copyFileSync(join(src, 'adapter_model.safetensors'), join(unsupported, 'adapter_model.safetensors'));
  cases.push({ args: ['--adapter', unsupported], message: /adapter_config\.json: "use_qalora" is true/, out: join(work, 'o3') });
  for (const c of cases) {
    const r = wsflow(['adapter', 'merge', '--model', TINY_MODEL, '--out', c.out, ...c.args]);
    assert.equal(r.status, 1, `expected exit 1 for ${c.args.join(' ')}; stderr: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.equal(existsSync(c.out), false, `${c.out} must not be created on failure`);
    assert.deepEqual(readdirSync(work).filter((n) => n.startsWith('.')), [], 'no temporary directory left behind');
  }
  const r = wsflow(['adapter', 'merge', '--model', join(work, 'nope'), '--adapter', src, '--out', join(work, 'o4')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nope/);
});
