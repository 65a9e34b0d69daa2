import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../src/engine/keys/canonical-json.js';
import { KEY_FORMAT, stageKeyOf, isKeyComplete, type KeyIngredients } from '../../../src/engine/keys/key-ingredients.js';
import { diffIngredients, displayParamName, formatReason, formatReasons, type Reason } from '../../../src/engine/plan/reasons.js';
import type { TreeHash } from '../../../src/engine/keys/hashing.js';

function ingredients(over: Partial<KeyIngredients> = {}): KeyIngredients {
  return {
    format: KEY_FORMAT,
    stageId: 'eval@lora',
    matrix: { adapter: 'lora' },
    source: { type: 'kind', name: 'eval', version: '1.0.0' },
    params: { anchor: 'My choice: **', lr: 0.001, nested: { a: 1, b: [1, 2] } },
    paramSources: { anchor: 'prompt.anchor', 'nested.a': 'train.a' },
    upstream: { model: [{ stageId: 'diff@lora', outputHash: 'a'.repeat(64) as TreeHash }] },
    external: [{ label: 'model', path: '/models/qwen', hash: 'b'.repeat(64), size: 10 }],
    deps: [],
    ...over,
  };
}

void test('canonical JSON sorts keys and spells equal numbers once', () => {
  assert.equal(canonicalJson({ b: 1, a: [1e-3, 0.001, -0, 1.0] }), '{"a":[0.001,0.001,0,1],"b":1}');
  assert.equal(canonicalJson({ z: { y: 1, x: 2 }, a: undefined }), '{"z":{"x":2,"y":1}}');
  // values JSON.stringify writes canonically already (sorted keys, plain values) and every near miss: the same bytes
  // whichever way a value's keys were built
  const sorted = { a: [1, 'x\u2028"', null, true, { b: 2, c: [] }], d: -0, e: 1e21 };
  const shuffled = { e: 1e21, d: -0, a: [1, 'x\u2028"', null, true, { c: [], b: 2 }] };
  assert.equal(canonicalJson(sorted), canonicalJson(shuffled));
  assert.equal(canonicalJson(sorted), '{"a":[1,"x\u2028\\"",null,true,{"b":2,"c":[]}],"d":0,"e":1e+21}');
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  assert.equal(canonicalJson([1, undefined]), '[1,null]');
  assert.equal(canonicalJson({ a: [NaN] }), '{"a":[{"$number":"NaN"}]}');
  assert.equal(canonicalJson({ a: 10n }), '{"a":10}');
  assert.equal(canonicalJson({ 10: 'x', 9: 'y' }), '{"10":"x","9":"y"}');
  assert.equal(canonicalJson({ a: new Date(0) }), '{"a":"1970-01-01T00:00:00.000Z"}');
  assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 })), '{"a":2,"b":1}');
  assert.notEqual(canonicalJson(NaN), canonicalJson('NaN'));
  assert.notEqual(canonicalJson(Infinity), canonicalJson(-Infinity));
  assert.equal(canonicalJson(Number('1E-3')), canonicalJson(0.001));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), /cyclic/);
});

void test('the key ignores display-only facts and changes with every material ingredient', () => {
  const base = stageKeyOf(ingredients());
  // where a param came from and where the model was found are display only
  assert.equal(stageKeyOf(ingredients({ paramSources: {} })), base);
  assert.equal(stageKeyOf(ingredients({ external: [{ label: 'model', path: '/elsewhere', hash: 'b'.repeat(64), size: 99 }] })), base);
  // 1e-3 in one file, 0.001 in another: same key
  assert.equal(stageKeyOf(ingredients({ params: { nested: { b: [1, 2], a: 1 }, lr: 1e-3, anchor: 'My choice: **' } })), base);
  const changed = [
    ingredients({ params: { anchor: 'My choice:', lr: 0.001, nested: { a: 1, b: [1, 2] } } }),
    ingredients({ source: { type: 'kind', name: 'eval', version: '1.0.1' } }),
    ingredients({ upstream: { model: [{ stageId: 'diff@lora', outputHash: 'c'.repeat(64) as TreeHash }] } }),
    ingredients({ external: [{ label: 'model', path: '/models/qwen', hash: 'd'.repeat(64), size: 10 }] }),
    ingredients({ matrix: { adapter: 'dora' } }),
    ingredients({ stageId: 'eval@dora' }),
  ];
  const keys = new Set([base, ...changed.map(stageKeyOf)]);
  assert.equal(keys.size, changed.length + 1);
});

void test('a key is unknown while an upstream output is unknown', () => {
  const pending = ingredients({ upstream: { model: [{ stageId: 'diff@lora', outputHash: null }] } });
  assert.equal(isKeyComplete(pending), false);
  assert.throws(() => stageKeyOf(pending), /not known until its upstream/);
});

void test('reasons name the global param with old and new values', () => {
  const old = ingredients();
  const cur = ingredients({ params: { anchor: 'My choice:', lr: 0.0005, nested: { a: 2, b: [1, 2] }, extra: true } });
  const reasons = diffIngredients(old, cur).map(formatReason);
  assert.deepEqual(reasons, [
    'param prompt.anchor "My choice: **" → "My choice:"',
    'param with.lr 0.001 → 0.0005',
    'param train.a 1 → 2',
    'param with.extra added: true',
  ]);
});

void test('reasons cover upstream, external inputs, version, cmd and deps', () => {
  const cmdOld = ingredients({
    source: { type: 'cmd', cmd: 'python x.py', outs: ['a.csv'] },
    deps: [{ path: 'x.py', hash: '1', size: 1 }, { path: 'gone.txt', hash: '2', size: 1 }],
  });
  const cmdNew = ingredients({
    source: { type: 'cmd', cmd: 'python x.py --fast', outs: ['a.csv'] },
    deps: [{ path: 'x.py', hash: '9', size: 1 }, { path: 'new.txt', hash: '3', size: 1 }],
    upstream: { model: [{ stageId: 'diff@lora', outputHash: null }] },
    external: [{ label: 'model', path: '/models/qwen', hash: 'e'.repeat(64), size: 10 }],
  });
  const text = diffIngredients(cmdOld, cmdNew).map(formatReason);
  assert.deepEqual(text, [
    'cmd changed: "python x.py" → "python x.py --fast"',
    "upstream diff@lora (may cut off if diff@lora's output is unchanged)",
    'model changed: /models/qwen',
    'dep x.py changed',
    'new dep new.txt',
    'dep gone.txt removed',
  ]);
  const bumped = diffIngredients(ingredients(), ingredients({ source: { type: 'kind', name: 'eval', version: '2.0.0' } }));
  assert.deepEqual(bumped.map(formatReason), ['kind eval version 1.0.0 → 2.0.0']);
});

void test('at most five reasons are shown, then "and N more"', () => {
  const many: Reason[] = Array.from({ length: 8 }, (_, i) => ({ type: 'dep-changed', path: `f${i}` }));
  const lines = formatReasons(many);
  assert.equal(lines.length, 6);
  assert.equal(lines[5], 'and 3 more');
});

void test('param display names use the longest matching binding', () => {
  assert.equal(displayParamName('opt.lr', { opt: 'train.optimizer' }, false), 'train.optimizer.lr');
  assert.equal(displayParamName('opt.lr', { opt: 'a', 'opt.lr': 'b' }, false), 'b');
  assert.equal(displayParamName('seed', {}, true), 'seed');
});

void test('a param interpolated into a string is reported with the global value, once', () => {
  const old = ingredients({
    params: { text: 'train lr=0.1', title: 'lr 0.1', other: 'x' },
    paramSources: { text: 'train.lr', title: 'train.lr', other: 'name' },
    globalParams: { 'train.lr': 0.1, name: 'x' },
  });
  const cur = ingredients({
    params: { text: 'train lr=0.05', title: 'lr 0.05', other: 'y' },
    paramSources: { text: 'train.lr', title: 'train.lr', other: 'name' },
    globalParams: { 'train.lr': 0.05, name: 'x' },
  });
  // `other` changed while its global did not (the template changed): named by the stage key
  assert.deepEqual(diffIngredients(old, cur).map(formatReason), ['param train.lr 0.1 → 0.05', 'param with.other "x" → "y"']);
});

void test('several upstream stages are named on one line', () => {
  const pending: Reason[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ type: 'upstream-pending', input: 'in', stageId: id }));
  assert.deepEqual(formatReasons([{ type: 'param-added', param: 'x', new: 1 }, ...pending]), [
    'param x added: 1',
    'upstream a, b, c and 2 more (may cut off if their outputs are unchanged)',
  ]);
  const changed: Reason[] = ['a', 'b'].map((id) => ({ type: 'upstream-changed', input: 'in', stageId: id }));
  assert.deepEqual(formatReasons(changed), ['upstream a, b']);
});
