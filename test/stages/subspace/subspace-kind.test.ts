/**
 * The subspace kind (spec §6) against an independent float64 computation written here: the SVD of W from a cyclic
 * Jacobi eigendecomposition of WᵀW (V, σ; U = W·V/σ), the weak basis from a Jacobi eigendecomposition of EᵀE of
 * the unembedding, then P = Uᵀ·w·V and the energies — on the tiny model with tied embeddings and on a copy with an
 * untied lm_head. Agreement within 1e-5 relative.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SafetensorsFile, writeSafetensors } from '../../../src/core/safetensors.js';
import { Rng } from '../../../src/core/random.js';
import { SUBSPACE_PER_LAYER, SUBSPACE_SUMMARY } from '../../../stages/lib/artifacts.js';
import { roundToBf16 } from '../../../stages/lib/dw-ops.js';
import { cleanupTempDirs, readCsv, runKind, tempDir, tinyModelStage, upstream } from '../helpers.js';

after(cleanupTempDirs);

/** Cyclic Jacobi eigendecomposition of a symmetric n×n matrix (row-major); eigenvalues descending, vectors as columns. */
function jacobiEigen(a0: Float64Array, n: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(a0);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (a[y * n + y] as number) - (a[x * n + x] as number));
  const vectors = new Float64Array(n * n);
  order.forEach((col, j) => {
    for (let i = 0; i < n; i++) vectors[i * n + j] = v[i * n + col] as number;
  });
  return { values: order.map((i) => a[i * n + i] as number), vectors };
}

/** WᵀW for W [rows, cols] */
function gram(w: Float32Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) {
    const wi = w[r * cols + i] as number;
    if (wi !== 0) for (let j = 0; j < cols; j++) g[i * cols + j] = (g[i * cols + j] as number) + wi * (w[r * cols + j] as number);
  }
  return g;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j] as number;
  return t;
}

/** independent ratio_top etc.: works on the side with the smaller Gram */
function refTop(W: Float32Array, w: Float32Array, rows: number, cols: number, kFrac: number): { energy_top: number; ratio_top: number; k: number; r: number } {
  if (rows < cols) return refTop(transpose(W, rows, cols), transpose(w, rows, cols), cols, rows, kFrac); // Pᵀ has the same energies
  const r = cols;
  const { values, vectors: V } = jacobiEigen(gram(W, rows, cols), cols);
  const sigma = values.map((x) => Math.sqrt(x));
  // U[:, j] = W V[:, j] / σ_j
  const U = new Float64Array(rows * r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (W[i * cols + c] as number) * (V[c * r + j] as number);
    U[i * r + j] = s / (sigma[j] as number);
  }
  const wv = new Float64Array(rows * r);
  for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (w[i * cols + c] as number) * (V[c * r + j] as number);
    wv[i * r + j] = s;
  }
  const k = Math.max(1, Math.round(kFrac * r));
  let total = 0;
  let top = 0;
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (U[i * r + a] as number) * (wv[i * r + b] as number);
    total += s * s;
    if (a < k && b < k) top += s * s;
  }
  const nullTop = (k * k) / (r * r);
  return { energy_top: top / total, ratio_top: top / total / nullTop, k, r };
}

function refWeak(E: Float32Array, vocab: number, hidden: number, w: Float32Array, cols: number): number {
  const { vectors } = jacobiEigen(gram(E, vocab, hidden), hidden);
  const kWeak = Math.max(1, Math.round(0.01 * hidden));
  let proj = 0;
  for (let b = hidden - kWeak; b < hidden; b++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < hidden; i++) s += (vectors[i * hidden + b] as number) * (w[i * cols + c] as number);
      proj += s * s;
    }
  }
  let total = 0;
  for (const x of w) total += x * x;
  return proj / total / (kWeak / hidden);
}

function relClose(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), 1e-12), `${what}: ${got} vs independent ${want}`);
}

function readAll(file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const f = SafetensorsFile.open(file);
  try {
    return new Map([...f.tensors].map(([k, t]) => [k, { shape: t.shape, data: f.readFloat32(k) }]));
  } finally {
    f.close();
  }
}

const DW_NAMES = ['model.layers.1.self_attn.q_proj.weight', 'model.layers.1.self_attn.o_proj.weight', 'model.layers.2.self_attn.o_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.layers.2.mlp.down_proj.weight', 'model.layers.2.mlp.up_proj.weight'];

/** a dW directory as the diff stage writes it, random tensors for DW_NAMES */
function writeDw(base: Map<string, { shape: number[]; data: Float32Array }>, mergeDtype: 'f32' | 'bf16', seed: number): string {
  const dir = tempDir();
  const rng = new Rng(seed);
  const tensors = DW_NAMES.map((name) => {
    const b = base.get(name);
    assert.ok(b, name);
    const data = Float32Array.from(rng.normalArray(b.data.length), (v) => 0.01 * v);
    return { name, shape: b.shape, data: mergeDtype === 'bf16' ? roundToBf16(data) : data };
  });
  writeSafetensors(join(dir, 'dw.safetensors'), tensors, { adapter: 'lora', merge_dtype: mergeDtype, mode: 'dw' });
  writeFileSync(join(dir, 'dw_info.json'), JSON.stringify({ adapter: 'lora', merge_dtype: mergeDtype, mode: 'dw', n_keys: tensors.length, n_params: 0, norm: 1 }));
  return dir;
}

/** a copy of the tiny model with an untied, random lm_head */
function untiedCopy(modelDir: string): string {
  const dir = tempDir();
  for (const f of readdirSync(modelDir)) if (f !== 'model-ref.json' && f !== 'model.safetensors' && f !== 'config.json') copyFileSync(join(modelDir, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  cfg['tie_word_embeddings'] = false;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  const tensors = [...readAll(join(modelDir, 'model.safetensors'))].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  const embed = tensors.find((t) => t.name === 'model.embed_tokens.weight');
  assert.ok(embed);
  const rng = new Rng(99);
  // columns of unequal scale, so the weak directions are well separated from the embedding's
  const hidden = embed.shape[1] as number;
  const lm = Float32Array.from(rng.normalArray(embed.data.length), (v, i) => v * (0.5 + (i % hidden) / hidden));
  tensors.push({ name: 'lm_head.weight', shape: embed.shape, data: lm });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

async function runSubspace(modelDir: string, dwDir: string): Promise<{ rows: Record<string, string>[]; summary: Record<string, string>[]; info: Record<string, unknown>; metrics: Map<string, number> }> {
  const ctx = await runKind('subspace', { stageId: 'subspace@honesty-lora-0', inputs: { model: [upstream('model', modelDir)], dw: [upstream('diff', dwDir)] } });
  const per = readCsv(join(ctx.outDir, SUBSPACE_PER_LAYER.file));
  assert.deepEqual(per.header, SUBSPACE_PER_LAYER.columns);
  const sum = readCsv(join(ctx.outDir, SUBSPACE_SUMMARY.file));
  assert.deepEqual(sum.header, SUBSPACE_SUMMARY.columns);
  return { rows: per.rows, summary: sum.rows, info: JSON.parse(readFileSync(join(ctx.outDir, 'subspace_info.json'), 'utf8')) as Record<string, unknown>, metrics: ctx.metrics };
}

async function checkAgainstIndependent(modelDir: string, unembedName: string, mergeDtype: 'f32' | 'bf16'): Promise<void> {
  const base = readAll(join(modelDir, 'model.safetensors'));
  const dwDir = writeDw(base, mergeDtype, 7);
  const dw = readAll(join(dwDir, 'dw.safetensors'));
  const out = await runSubspace(modelDir, dwDir);
  assert.equal(out.info['unembedding'], unembedName);
  assert.equal(out.rows.length, DW_NAMES.length);
  const at = (x: Float32Array): Float32Array => (mergeDtype === 'bf16' ? roundToBf16(x) : x);
  const E = base.get(unembedName);
  assert.ok(E);
  const [vocab, hidden] = E.shape as [number, number];
  const weakByName = new Map<string, number>();
  for (const row of out.rows) {
    const name = row['name'] as string;
    const W = base.get(name);
    const w = dw.get(name);
    assert.ok(W && w);
    const [rows, cols] = W.shape as [number, number];
    const ref = refTop(at(W.data), w.data, rows, cols, 0.1);
    assert.equal(Number(row['k']), ref.k, `${name} k`);
    assert.equal(Number(row['r']), ref.r, `${name} r`);
    relClose(Number(row['energy_top']), ref.energy_top, `${name} energy_top`);
    relClose(Number(row['ratio_top']), ref.ratio_top, `${name} ratio_top`);
    assert.equal(row['shape'], `(${rows}, ${cols})`);
    assert.equal(Number(row['layer_idx']), Number(/layers\.(\d+)/.exec(name)?.[1]));
    if (/(o_proj|down_proj)/.test(name)) {
      const rw = refWeak(at(E.data), vocab, hidden, w.data, cols);
      relClose(Number(row['ratio_weak']), rw, `${name} ratio_weak`);
      weakByName.set(name, rw);
    } else {
      assert.equal(row['ratio_weak'], 'NaN', `${name}: no weak readout for a module that does not write the residual`);
    }
  }
  // summary: per kind, sorted; ratio_weak_write = mean over o_proj/down_proj of their mean_ratio_weak
  assert.deepEqual(out.summary.map((s) => s['kind']), ['down_proj', 'o_proj', 'q_proj', 'up_proj']);
  const meanWeak = (kind: string): number => {
    const xs = [...weakByName].filter(([n]) => n.includes(`.${kind}.`)).map(([, v]) => v);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  for (const kind of ['o_proj', 'down_proj']) relClose(Number(out.summary.find((s) => s['kind'] === kind)?.['mean_ratio_weak']), meanWeak(kind), `${kind} mean_ratio_weak`);
  assert.equal(Number(out.summary.find((s) => s['kind'] === 'q_proj')?.['n']), 1);
  relClose(out.info['ratio_weak_write'] as number, (meanWeak('o_proj') + meanWeak('down_proj')) / 2, 'ratio_weak_write');
  relClose(out.metrics.get('ratio_weak_write') as number, (meanWeak('o_proj') + meanWeak('down_proj')) / 2, 'ratio_weak_write metric');
}

void test('subspace: tied embeddings — matches an independent Jacobi SVD within 1e-5 relative (f32 and bf16 dW)', async () => {
  const model = await tinyModelStage();
  await checkAgainstIndependent(model.outDir, 'model.embed_tokens.weight', 'f32');
  await checkAgainstIndependent(model.outDir, 'model.embed_tokens.weight', 'bf16');
});

void test('subspace: an untied lm_head is the unembedding, and changes ratio_weak', async () => {
  const model = await tinyModelStage();
  const untied = untiedCopy(model.outDir);
  await checkAgainstIndependent(untied, 'lm_head.weight', 'f32');
  const base = readAll(join(model.outDir, 'model.safetensors'));
  const dwDir = writeDw(base, 'f32', 7);
  const tied = await runSubspace(model.outDir, dwDir);
  const un = await runSubspace(untied, dwDir);
  assert.notEqual(tied.info['ratio_weak_write'], un.info['ratio_weak_write']);
});

void test('subspace: a dW tensor of the wrong size is an error naming it', async () => {
  const model = await tinyModelStage();
  const dir = tempDir();
  writeSafetensors(join(dir, 'dw.safetensors'), [{ name: 'model.layers.1.self_attn.o_proj.weight', shape: [3], data: new Float32Array(3) }]);
  writeFileSync(join(dir, 'dw_info.json'), JSON.stringify({ adapter: 'lora', merge_dtype: 'f32', mode: 'dw', n_keys: 1, n_params: 3, norm: 0 }));
  await assert.rejects(runSubspace(model.outDir, dir), /tensor model\.layers\.1\.self_attn\.o_proj\.weight has 3 values but the base weight is/);
});

void test('a dW whose dw_info.json names an unknown precision is refused, naming the file and key', async () => {
  const model = await tinyModelStage();
  const base = readAll(join(model.outDir, 'model.safetensors'));
  const dir = writeDw(base, 'f32', 1);
  writeFileSync(join(dir, 'dw_info.json'), JSON.stringify({ adapter: 'lora', merge_dtype: 'fp8', mode: 'dw', n_keys: 1, n_params: 1, norm: 1 }));
  await assert.rejects(runSubspace(model.outDir, dir), /dw_info\.json: key "merge_dtype" must be "f32" or "bf16", got "fp8"/);
});
