/**
 * jsonEqual decides whether a no-op run may leave wsflow.lock as it is (src/engine/lock/update-lock.ts): it must
 * agree with comparing the two values' JSON, key order aside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonEqual } from '../../../src/engine/util/json-equal.js';

void test('equal exactly when their JSON with sorted keys is equal', () => {
  const pairs: [unknown, unknown, boolean][] = [
    [{ a: 1, b: [1, 'x', null] }, { b: [1, 'x', null], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: 1 }, { a: 1, b: null }, false],
    [{ a: 1, c: 2 }, { a: 1, b: 2 }, false],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: [1, 2] }, { a: { 0: 1, 1: 2 } }, false],
    [[], {}, false],
    [{ a: { b: { c: 'x' } } }, { a: { b: { c: 'y' } } }, false],
    [{ a: '1' }, { a: 1 }, false],
    [0, -0, true],
    [null, {}, false],
    [{ constructor: 1 }, {}, false],
    [{ toString: 'x' }, { toString: 'x' }, true],
    [Object.assign(Object.create(null) as object, { s1: [['s1', 'h']] }), { s1: [['s1', 'h']] }, true],
  ];
  for (const [a, b, expected] of pairs) {
    const sorted = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));
    assert.equal(sorted(a) === sorted(b), expected, `reference disagrees for ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(jsonEqual(a, b), expected, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(jsonEqual(b, a), expected, `${JSON.stringify(b)} vs ${JSON.stringify(a)}`);
  }
});
