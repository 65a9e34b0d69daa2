import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk, spanText } from './helpers.js';

const yaml = `params:
  prompt:
    anchor: "My choice: **"
    style: plain
  train: { lr: 0.1, steps: 100 }
  layers: [1, 2]
matrix:
  adapter: [lora, dora, pissa]
stages:
  train:
    uses: prompt
    foreach: adapter
    with:
      anchor: \${params.prompt.anchor}
      temperature: \${params.train.lr}
      layers: \${params.layers}
  fit:
    cmd: fit --steps \${params.train.steps} --style \${params.prompt.style}
    outs: [fit.txt]
profiles:
  smoke:
    params:
      train: { steps: 2 }
    matrix:
      adapter: [lora]
    stages:
      train:
        with: { sampling: { top_k: 5 } }
        resources: { class: cpu }
  typo:
    params: { trian: { lr: 1 } }
  ghost:
    stages:
      evaluate: { uses: prompt }
`;

void test('a profile deep-merges params, replaces matrix axes and deep-merges stages', async () => {
  const p = await loadOk(yaml, { profile: 'smoke' });
  assert.equal(p.profile, 'smoke');
  assert.deepEqual(p.params['train'], { lr: 0.1, steps: 2 });
  assert.deepEqual([...p.stages.keys()], ['train@lora', 'fit']);
  const train = p.stages.get('train@lora');
  assert.deepEqual(train?.params, { anchor: 'My choice: **', temperature: 0.1, layers: [1, 2], sampling: { top_k: 5 } });
  assert.equal(train?.resources.class, 'cpu');
  assert.deepEqual(p.stages.get('fit')?.source, { type: 'cmd', cmd: 'fit --steps 2 --style plain' });
});

void test('-S overrides parse values as YAML scalars or flow nodes, after the profile', async () => {
  const p = await loadOk(yaml, {
    profile: 'smoke',
    overrides: ['train.lr=0.05', 'prompt.anchor=My choice:', 'layers=[3, 4]', 'prompt.style="1"', 'train.steps=7'],
  });
  const train = p.stages.get('train@lora');
  assert.deepEqual(train?.params['temperature'], 0.05);
  assert.deepEqual(train?.params['anchor'], 'My choice:');
  assert.deepEqual(train?.params['layers'], [3, 4]);
  assert.deepEqual(train?.paramBindings.find((b) => b.key === 'anchor'), { key: 'anchor', value: 'My choice:', from: 'prompt.anchor' });
  assert.deepEqual(p.stages.get('fit')?.source, { type: 'cmd', cmd: 'fit --steps 7 --style 1' });
  assert.deepEqual(p.params['prompt'], { anchor: 'My choice:', style: '1' });
  const blank = await loadOk(yaml, { overrides: ['prompt.style='] });
  assert.equal(blank.params['prompt'] && (blank.params['prompt'] as Record<string, unknown>)['style'], '');
});

void test('an unknown profile lists the known ones; profile typos in params and stages are errors at the profile', async () => {
  const unknown = await loadErrors(yaml, { profile: 'smok' });
  assert.deepEqual(unknown.map(brief), ['20:1 unknown profile "smok" (did you mean "smoke"?); profiles: smoke, typo, ghost']);
  const typo = await loadErrors(yaml, { profile: 'typo' });
  assert.deepEqual(typo.map(brief), ['31:15 profile "typo" sets params.trian, which params does not declare (did you mean "train"?)']);
  const ghost = await loadErrors(yaml, { profile: 'ghost' });
  assert.deepEqual(ghost.map(brief), ['34:7 profile "ghost" changes stage "evaluate", which stages does not declare']);
  const none = await loadErrors('stages:\n  a: { cmd: x }\n', { profile: 'smoke' });
  assert.deepEqual(none.map(brief), ['1:1 unknown profile "smoke"; the pipeline file defines no profiles']);
});

void test('bad -S: unknown key (at the nearest existing param), malformed, bad YAML value', async () => {
  const errors = await loadErrors(yaml, { overrides: ['prompt.anchr=x', 'nothing=1', 'lr', 'layers=[1, 2'] });
  assert.deepEqual(errors.map(brief), [
    '1:1 bad -S "nothing=1": unknown param "nothing" (params has: prompt, train, layers); -S can only change params that exist',
    '1:1 bad -S "lr": expected -S KEY=VALUE with a dotted param key, e.g. -S train.lr=0.01',
    '2:3 bad -S "prompt.anchr=x": unknown param "prompt.anchr" (did you mean "prompt.anchor"?); -S can only change params that exist',
    '6:3 bad -S "layers=[1, 2": the value is not valid YAML (Flow sequence must end with a ])',
  ]);
  assert.equal(spanText(yaml, errors[2] ?? { severity: 'error', message: '' }), 'prompt');
});

void test('an overridden value that breaks a kind schema is reported where it is used', async () => {
  const errors = await loadErrors(yaml, { overrides: ['train.lr=fast'] });
  assert.deepEqual(errors.map(brief), ['15:20 stages.train.with.temperature must be a number, not a string (kind "prompt")']);
});
