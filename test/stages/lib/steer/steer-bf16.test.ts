/**
 * Weight steering at the study's precision on the tiny model (issue 16): with a bf16 dW the steered weights equal a
 * reference bf16 computation bit for bit; with an f32 dW they are float32 θ + α·dW exactly as before the precision
 * setting existed (tfjs float32 add and multiply); the originals come back bit-identical either way.
 *
 * The reference rounding here is arithmetic on float64 values (scale by the power-of-two ulp, round half to even,
 * scale back), not the bit-pattern routine the code uses.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadResolvedModel, type LoadedModel } from '../../../../stages/lib/model/load-model.js';
import { modelDirOf } from '../../../../stages/lib/model/model-ref.js';
import { withWeightSteering } from '../../../../stages/lib/steer/weight-steer.js';
import { Rng } from '../../../../src/core/random.js';
import { cleanupTempDirs, tinyModelStage } from '../../helpers.js';

after(cleanupTempDirs);

const MAX_BF16 = (2 - 2 ** -7) * 2 ** 127;

/** round half to even of a float64 integer-or-half */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** bf16 round-to-nearest-even of a finite float32 value, by float64 arithmetic */
function refBf16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const e = Math.max(Math.floor(Math.log2(a)), -126);
  // log2 can be off by one near powers of two: fix the binade exactly
  const binade = 2 ** e <= a ? (2 ** (e + 1) <= a ? e + 1 : e) : e - 1;
  const ulp = 2 ** (Math.max(binade, -126) - 7);
  const r = roundHalfEven(a / ulp) * ulp;
  // IEEE overflow: at or past max + half an ulp is infinity
  const out = r > MAX_BF16 ? Infinity : r;
  return x < 0 ? -out : out;
}

function refBf16Array(x: Float32Array): Float32Array {
  return Float32Array.from(x, refBf16);
}

async function tiny(): Promise<LoadedModel> {
  return loadResolvedModel(modelDirOf((await tinyModelStage()).outDir));
}

function param(l: LoadedModel, name: string): Float32Array {
  const t = l.model.getParameter(name);
  const d = (t.dataSync() as Float32Array).slice();
  t.dispose();
  return d;
}

function words(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}

function countDiffs(a: Float32Array, b: Float32Array): number {
  const x = words(a);
  const y = words(b);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

function dwFor(l: LoadedModel, seed: number, scale: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const dw = new Map<string, Float32Array>();
  for (const name of l.model.parameterNames().filter((n) => /layers\.[12]\..*(k_proj|o_proj|down_proj)\.weight$/.test(n))) {
    const n = l.model.parameterShape(name).reduce((a, b) => a * b, 1);
    dw.set(name, Float32Array.from(rng.normalArray(n), (v) => scale * v));
  }
  return dw;
}

void test('bf16 steering on the tiny model: the steered weights equal a reference bf16 computation bit for bit', async () => {
  const l = await tiny();
  // a dW as the bf16 diff stage writes it (bf16-representable), at several scales against θ ~ 0.02
  for (const [seed, scale, alpha] of [
    [1, 0.01, 2.37],
    [2, 1e-4, 1],
    [3, 1e-3, -34.94],
  ] as const) {
    const dw = new Map([...dwFor(l, seed, scale)].map(([k, v]) => [k, refBf16Array(v)]));
    const before = new Map([...dw.keys()].map((k) => [k, param(l, k)]));
    let checked = 0;
    await withWeightSteering(
      l.model,
      dw,
      alpha,
      () => {
        for (const [name, d] of dw) {
          const theta = refBf16Array(before.get(name) as Float32Array);
          const a = Math.fround(alpha);
          const step = refBf16Array(Float32Array.from(d, (v) => a * v));
          const want = refBf16Array(Float32Array.from(theta, (v, i) => v + (step[i] as number)));
          const got = param(l, name);
          assert.equal(countDiffs(got, want), 0, `${name} (α = ${alpha}, |dW| ~ ${scale}): steered weights differ from the reference bf16 computation`);
          checked += got.length;
        }
        return Promise.resolve();
      },
      undefined,
      'bf16',
    );
    assert.ok(checked > 0);
    for (const [name, b] of before) assert.equal(countDiffs(param(l, name), b), 0, `${name} restored bit for bit`);
  }
});

void test('bf16 steering on the tiny model: an IA3-sized update leaves the weights at bf16(θ); f32 steering moves them', async () => {
  const l = await tiny();
  const names = l.model.parameterNames().filter((n) => /layers\.1\.self_attn\.k_proj\.weight$/.test(n));
  const name = names[0] as string;
  const theta = param(l, name);
  const dw = new Map([[name, refBf16Array(Float32Array.from(theta, (v) => v * 1e-4))]]);
  await withWeightSteering(l.model, dw, 1, () => {
    assert.equal(countDiffs(param(l, name), refBf16Array(theta)), 0, 'θ + dW in bf16 is bf16(θ): the update rounded away');
    return Promise.resolve();
  }, undefined, 'bf16');
  await withWeightSteering(l.model, dw, 1, () => {
    assert.ok(countDiffs(param(l, name), theta) > 0, 'in float32 the same update changes the weights');
    return Promise.resolve();
  }, undefined, 'f32');
});

void test('f32 steering (the opt-in) is float32 θ + α·dW, as before the precision setting', async () => {
  const l = await tiny();
  const dw = dwFor(l, 5, 0.01);
  const alpha = 2.37;
  const before = new Map([...dw.keys()].map((k) => [k, param(l, k)]));
  const check = (): Promise<void> => {
    for (const [name, d] of dw) {
      const theta = before.get(name) as Float32Array;
      const a = Math.fround(alpha);
      const want = Float32Array.from(theta, (v, i) => v + Math.fround(a * (d[i] as number)));
      assert.equal(countDiffs(param(l, name), want), 0, `${name}: f32 steering is fround(θ + fround(α·dW))`);
    }
    return Promise.resolve();
  };
  await withWeightSteering(l.model, dw, alpha, check, undefined, 'f32');
  // the default of the function (callers that do not name a precision) is f32, unchanged
  await withWeightSteering(l.model, dw, alpha, check);
});
