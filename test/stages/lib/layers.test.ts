import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerSlice, REPE_LAYERS_QWEN3_0_6B } from '../../../stages/lib/layers.js';
import { pyLstrip, pyRound, pyStrip } from '../../../stages/lib/py-compat.js';

void test('pyRound is Python 3 round(): halves to even, on the exact float value', () => {
  // values from CPython 3.11: round(0.5)=0, round(1.5)=2, round(2.5)=2, round(0.3*15)=4, round(-1.5)=-2, round(-2.5)=-2
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 0.3 * 15, -0.5, -1.5, -2.5, 8.4, 22.400000000000002, 0.49999999999999994].map(pyRound), [0, 2, 2, 4, 4, 0, -2, -2, 8, 22, 0]);
  assert.equal(Math.round(2.5), 3, 'the JS behaviour we must not use');
  assert.throws(() => pyRound(NaN), /cannot round NaN/);
});

void test('layer slice range(round(0.3L), round(0.8L)): 8..21 for 28 layers, banker\'s rounding at ties', () => {
  assert.deepEqual(layerSlice(28), Array.from({ length: 14 }, (_, i) => 8 + i));
  assert.deepEqual(layerSlice(28), [...REPE_LAYERS_QWEN3_0_6B]);
  assert.deepEqual(layerSlice(2), [1], 'tiny 2-layer model: [round(0.6), round(1.6)) = [1, 2)');
  assert.deepEqual(layerSlice(4), [1, 2], '[round(1.2), round(3.2)) = [1, 3)');
  // 0.3·15 = 4.5 rounds to 4 in Python (JS Math.round would give 5); 0.8·15 = 12
  assert.deepEqual(layerSlice(15), [4, 5, 6, 7, 8, 9, 10, 11]);
  // 0.3·5 = 1.5 → 2 (even), 0.8·5 = 4
  assert.deepEqual(layerSlice(5), [2, 3]);
  assert.deepEqual(layerSlice(36), Array.from({ length: 18 }, (_, i) => 11 + i), '[round(10.8), round(28.8)) = [11, 29)');
  assert.deepEqual(layerSlice(1), [0], '[round(0.3), round(0.8)) = [0, 1)');
  assert.throws(() => layerSlice(28, 0.5, 0.5), /layer slice is empty: range\(round\(0.5·28\), round\(0.5·28\)\) = range\(14, 14\)/);
  assert.throws(() => layerSlice(0), /positive integer/);
  assert.throws(() => layerSlice(28, -0.1, 0.8), /fractions must be in \[0, 1\]/);
});

void test('Python whitespace stripping (str.strip / lstrip) differs from JS trim where it matters', () => {
  assert.equal(pyStrip('\x1c\x85 hi \u3000\n'), 'hi');
  assert.equal(pyStrip('\ufeffhi'), '\ufeffhi', 'U+FEFF is not whitespace to Python');
  assert.equal(pyLstrip('\t\n x '), 'x ');
  assert.equal(pyStrip(''), '');
});
