import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk } from './helpers.js';

const pipeline = (extra: string): string => `matrix:
  adapter: [lora, dora]
  seed: [0, 1]
stages:
  base: { uses: prompt, with: { anchor: base } }
  train:
    uses: prompt
    foreach: [adapter, seed]
    with: { anchor: t }
  ev:
    uses: prompt
    foreach: adapter
    with: { anchor: e }
${extra}`;

void test('needs: same cell from a foreach stage, @* for all cells, explicit ids, per-axis patterns', async () => {
  const p = await loadOk(
    pipeline(`  per_cell:
    uses: prompt
    foreach: [adapter, seed]
    with: { anchor: x }
    needs: { model: ev }
  summary:
    uses: report
    needs:
      baseline: base
      evals: [ev@*, train@lora-0]
  seeds:
    uses: report
    foreach: adapter
    needs: { baseline: base, evals: "train@\${matrix.adapter}-*" }
`),
  );
  assert.deepEqual(p.stages.get('per_cell@dora-1')?.needs, { model: ['ev@dora'] });
  assert.deepEqual(p.stages.get('summary')?.needs, { baseline: ['base'], evals: ['ev@lora', 'ev@dora', 'train@lora-0'] });
  assert.deepEqual(p.stages.get('seeds@dora')?.needs, { baseline: ['base'], evals: ['train@dora-0', 'train@dora-1'] });
  // upstreams come first; otherwise declaration order
  const index = (id: string): number => p.order.indexOf(id);
  assert.ok(index('ev@dora') < index('per_cell@lora-0'));
  assert.ok(index('train@dora-1') < index('seeds@dora'));
});

void test('list-form needs name the input after the referenced stage', async () => {
  const p = await loadOk(`stages:
  model: { uses: prompt, with: { anchor: m } }
  ask:
    uses: prompt
    needs: [model]
    with: { anchor: a }
  shell:
    cmd: cat out/model/prompt.json > copy.json
    needs: [model, ask]
    outs: [copy.json]
`);
  assert.deepEqual(p.stages.get('ask')?.needs, { model: ['model'] });
  assert.deepEqual(p.stages.get('shell')?.needs, { model: ['model'], ask: ['ask'] });
});

void test('dangling and ill-formed refs are errors at the ref', async () => {
  const errors = await loadErrors(
    pipeline(`  a:
    uses: report
    needs:
      baseline: bse
      evals: [ev@lorra, ev@*]
  b:
    uses: report
    needs: { baseline: train, evals: [base@*] }
  c:
    uses: report
    needs: { baseline: "train@lora-*-*", evals: [ev] }
`),
  );
  assert.deepEqual(errors.map(brief), [
    '17:17 stage "a" needs unknown stage "bse" (did you mean "base"?)',
    '18:15 stage "ev" has no cell "ev@lorra" (did you mean "ev@lora"?); its cells: ev@lora, ev@dora',
    '21:24 "train" runs for each adapter × seed (4 cells) and stage "b" does not foreach adapter, seed: write train@* for all cells or train@lora-0 for one',
    '21:39 "base" is not a foreach stage, so "base@*" names no cell: write base',
    '24:24 stage "train" has no cell "train@lora-*-*" (did you mean "train@lora-0"?); its cells: train@lora-0, train@lora-1, train@dora-0, train@dora-1',
    '24:50 "ev" runs for each adapter (2 cells) and stage "c" does not foreach adapter: write ev@* for all cells or ev@lora for one',
  ]);
});

void test('needs are checked against the kind inputs: unknown name, missing required, several for a single input', async () => {
  const errors = await loadErrors(
    pipeline(`  unknown:
    uses: report
    needs: { baseline: base, evals: [ev@*], extra: base }
  listed:
    uses: report
    needs: [base, ev@*]
  missing:
    uses: report
    needs: { evals: ev@* }
  several:
    uses: report
    needs: { baseline: ev@*, evals: base }
  none:
    uses: report
`),
  );
  assert.deepEqual(errors.map(brief), [
    '16:45 stage "unknown": kind "report" has no input "extra" (its inputs: baseline, evals)',
    '19:5 stage "listed" is missing input "baseline" of kind "report" (the reference evaluation); add it to needs:',
    '19:5 stage "listed" is missing input "evals" of kind "report" (evaluations to compare); add it to needs:',
    '19:13 stage "listed": kind "report" has no input "base" (its inputs: baseline, evals); name the input, e.g. needs: { baseline: base }',
    '19:19 stage "listed": kind "report" has no input "ev" (its inputs: baseline, evals); name the input, e.g. needs: { baseline: ev }',
    '22:5 stage "missing" is missing input "baseline" of kind "report" (the reference evaluation); add it to needs:',
    '25:14 input "baseline" of kind "report" takes one stage, but stage "several" gives it 2: ev@lora, ev@dora',
    '26:3 stage "none" is missing input "baseline" of kind "report" (the reference evaluation); add it to needs:',
    '26:3 stage "none" is missing input "evals" of kind "report" (evaluations to compare); add it to needs:',
  ]);
});
