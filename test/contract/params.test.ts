import assert from 'node:assert/strict';
import { test } from 'node:test';
import AjvModule from 'ajv';
import { defineKind, externalInputsOf, type KindContext, type StageContext, type StageKind } from '../../src/contract/stage-kind.js';
import { err, ok } from '../../src/contract/result.js';
import { parseParams, type ObjectParamSchema } from '../../src/contract/params.js';
import { builtinKinds } from '../../stages/index.js';

const Ajv = AjvModule.default;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['sign'],
  properties: {
    sign: { enum: ['pos', 'neg'] },
    coeffs: { type: 'array', items: { type: 'number' }, default: [-1, 0, 1] },
    label: { type: ['string', 'null'], default: null },
    steps: { type: 'integer', default: 3 },
    tiny: { type: ['object', 'null'], default: null, additionalProperties: false, properties: { seed: { type: 'integer', default: 0 } } },
    note: { type: 'string' },
  },
} as const satisfies ObjectParamSchema;

void test('parseParams fills defaults (nested too) and keeps given values; absent keys without a default stay absent', () => {
  const r = parseParams(schema, { sign: 'neg', tiny: {} });
  assert.ok(r.ok);
  assert.deepEqual(r.value, { sign: 'neg', coeffs: [-1, 0, 1], label: null, steps: 3, tiny: { seed: 0 } });
  // the default is a copy: a stage that mutates its params cannot change the schema
  r.value.coeffs.push(9);
  assert.deepEqual(schema.properties.coeffs.default, [-1, 0, 1]);
});

void test('parseParams names the key of a value that does not fit: type, integer, enum, item, unknown key, missing required key', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ sign: 'pos', label: 3 }, 'label', /expected string or null, got number/],
    [{ sign: 'pos', steps: 1.5 }, 'steps', /expected integer, got number/],
    [{ sign: 'up' }, 'sign', /"up" is not one of "pos", "neg"/],
    [{ sign: 'pos', coeffs: [1, 'x'] }, 'coeffs[1]', /expected number, got string/],
    [{ sign: 'pos', tiny: { seed: 0, layers: 2 } }, 'tiny.layers', /unknown param/],
    [{ sign: 'pos', colour: 'red' }, 'colour', /unknown param \(known: sign, coeffs/],
    [{}, 'sign', /is required/],
  ];
  for (const [raw, param, message] of cases) {
    const r = parseParams(schema, raw);
    assert.ok(!r.ok, JSON.stringify(raw));
    assert.equal(r.error.param, param, JSON.stringify(raw));
    assert.match(r.error.message, message);
  }
});

void test("every built-in kind: parseParams fills the same defaults as the pipeline's ajv validation", () => {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, allowUnionTypes: true, strict: false });
  // the smallest with: each kind accepts (train requires its adapter and sign)
  const minimal: Record<string, Record<string, unknown>> = { train: { adapter: 'lora', sign: 'pos' }, model: { tiny: {} } };
  assert.equal(builtinKinds.size, 14);
  for (const kind of builtinKinds.values()) {
    const raw = minimal[kind.name] ?? {};
    const viaAjv = structuredClone(raw);
    assert.ok(ajv.compile(kind.paramsSchema)(viaAjv), kind.name);
    const parsed = parseParams(kind.paramsSchema as ObjectParamSchema, raw);
    assert.ok(parsed.ok, `${kind.name}: ${parsed.ok ? '' : `${parsed.error.param}: ${parsed.error.message}`}`);
    assert.deepEqual(parsed.value, viaAjv, kind.name);
  }
});

void test('defineKind: run gets parsed, typed params and its name and version; a misfit fails the stage naming the key', async () => {
  let seen: KindContext<unknown> | undefined;
  const kind = defineKind({
    name: 'probe',
    version: '2.1.0',
    description: 'records its context',
    paramsSchema: schema,
    inputs: {},
    resources: 'cpu',
    externalInputs(params) {
      return params.coeffs.includes(0) ? ok([]) : err({ param: 'coeffs', message: 'coeffs must include 0' });
    },
    load() {
      return Promise.resolve({
        run(ctx) {
          seen = ctx;
          const steps: number = ctx.params.steps; // typed: no cast
          assert.equal(steps, 3);
          return Promise.resolve();
        },
      });
    },
  });
  const ctx = (params: Record<string, unknown>): StageContext => ({
    stageId: 'probe@x',
    matrix: {},
    params,
    inputs: {},
    outDir: '/nonexistent',
    projectDir: '/nonexistent',
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    metric: () => undefined,
    annotate: () => undefined,
  });
  const impl = await kind.load();
  await impl.run(ctx({ sign: 'pos' }));
  assert.deepEqual(seen?.kind, { name: 'probe', version: '2.1.0' });
  assert.deepEqual(seen?.params, { sign: 'pos', coeffs: [-1, 0, 1], label: null, steps: 3, tiny: null });
  await assert.rejects(impl.run(ctx({ sign: 'pos', steps: 'many' })), /stage probe@x: with\.steps: expected integer, got string/);

  const env = { projectDir: '/nonexistent' };
  assert.deepEqual(externalInputsOf(kind, { sign: 'pos' }, env), { ok: true, value: [] });
  assert.deepEqual(externalInputsOf(kind, { sign: 'pos', coeffs: [1] }, env), { ok: false, error: { param: 'coeffs', message: 'coeffs must include 0' } });
  assert.deepEqual(externalInputsOf(kind, { sign: 'pos', coeffs: 'all' }, env), { ok: false, error: { param: 'coeffs', message: 'coeffs: expected array, got string' } });
});

void test('externalInputsOf: a project-local kind may still answer in the older {ok, inputs} / {ok, error: string} shape; anything else is a problem, not a crash', () => {
  const env = { projectDir: '/nonexistent' };
  const plain = (answer: (params: Readonly<Record<string, unknown>>) => unknown): StageKind => ({
    name: 'local',
    version: '1.0.0',
    description: 'a project-local kind written against the older contract',
    paramsSchema: { type: 'object' },
    inputs: {},
    resources: 'cpu',
    // the engine cannot type a user's module: it may return anything
    externalInputs: answer as StageKind['externalInputs'],
    load: () => Promise.reject(new Error('not loaded in this test')),
  });
  const legacy = plain((p) => (p['file'] ? { ok: true, inputs: [{ label: 'data', path: '/x/data.csv' }] } : { ok: false, error: 'with.file is missing', param: 'file' }));
  assert.deepEqual(externalInputsOf(legacy, { file: 'data.csv' }, env), { ok: true, value: [{ label: 'data', path: '/x/data.csv' }] });
  assert.deepEqual(externalInputsOf(legacy, {}, env), { ok: false, error: { message: 'with.file is missing', param: 'file' } });
  const current = plain(() => ok([{ label: 'data', path: '/x/data.csv' }]));
  assert.deepEqual(externalInputsOf(current, {}, env), { ok: true, value: [{ label: 'data', path: '/x/data.csv' }] });
  const none = plain(() => ok([]));
  delete none.externalInputs;
  assert.deepEqual(externalInputsOf(none, {}, env), { ok: true, value: [] });
  const throws = plain(() => {
    throw new Error('boom');
  });
  assert.deepEqual(externalInputsOf(throws, {}, env), { ok: false, error: { message: 'kind local: externalInputs threw: boom' } });
  for (const bad of [undefined, 'yes', { ok: true }, { ok: true, value: [{ label: 'x' }] }, { ok: false }, { ok: 'maybe' }]) {
    const r = externalInputsOf(plain(() => bad), {}, env);
    assert.ok(!r.ok && r.error.message.startsWith('kind local: externalInputs must return'), JSON.stringify(bad));
  }
});
