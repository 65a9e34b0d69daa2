import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk, spanText } from './helpers.js';

const base = (stage: string): string => `params:
  prompt:
    anchor: "My choice: **"
    layers: [3, 5]
  t: 0.5
  name: lora
  flag: true
matrix:
  adapter: [lora, dora]
stages:
${stage}`;

void test('a string that is exactly one reference keeps the value type; embedded references stringify', async () => {
  const p = await loadOk(
    base(`  ask:
    uses: prompt
    with:
      anchor: "\${params.prompt.anchor} / \${params.t} / \${params.flag}"
      temperature: \${params.t}
      layers: \${params.prompt.layers}
`),
  );
  const stage = p.stages.get('ask');
  assert.ok(stage);
  assert.deepEqual(stage.params, { anchor: 'My choice: ** / 0.5 / true', temperature: 0.5, layers: [3, 5] });
});

void test('$${ writes a literal ${ and is not a reference', async () => {
  const p = await loadOk(base(`  ask:\n    uses: prompt\n    with: { anchor: "cost: $\${HOME} and \${params.name}" }\n`));
  assert.equal(p.stages.get('ask')?.params['anchor'], 'cost: ${HOME} and lora');
});

void test('references to matrix values expand per cell, in with, out and cmd', async () => {
  const p = await loadOk(
    base(`  ask:
    uses: prompt
    foreach: adapter
    with: { anchor: "\${matrix.adapter}" }
    out: results/\${matrix.adapter}/ask
  shell:
    cmd: echo \${matrix.adapter} > \${matrix.adapter}.txt
    foreach: adapter
    outs: ['\${matrix.adapter}.txt']
`),
  );
  assert.equal(p.stages.get('ask@dora')?.params['anchor'], 'dora');
  assert.equal(p.stages.get('ask@dora')?.outDir, 'results/dora/ask');
  const shell = p.stages.get('shell@lora');
  assert.deepEqual(shell?.source, { type: 'cmd', cmd: 'echo lora > lora.txt' });
  assert.deepEqual(shell?.outs, ['lora.txt']);
});

void test('an unknown param is reported at the exact ${...} span, with a suggestion', async () => {
  const yaml = base(`  ask:\n    uses: prompt\n    with: { anchor: "say \${params.prompt.anchr} now" }\n`);
  const [error, ...rest] = await loadErrors(yaml);
  assert.equal(rest.length, 0);
  assert.ok(error);
  assert.equal(brief(error), '13:26 unknown param "prompt.anchr" (did you mean "prompt.anchor"?) in ${params.prompt.anchr}');
  assert.equal(spanText(yaml, error), '${params.prompt.anchr}');
});

void test('the second of two identical references is located at its own occurrence', async () => {
  const yaml = base(`  ask:\n    uses: prompt\n    with: { anchor: "\${params.name}\${params.prompt}" }\n`);
  const [error] = await loadErrors(yaml);
  assert.ok(error?.span);
  assert.equal(spanText(yaml, error), '${params.prompt}');
  assert.match(error.message, /is a map and cannot be embedded in a longer string/);
});

void test('a matrix axis the stage does not foreach is an error naming the fix', async () => {
  const [error] = await loadErrors(base(`  ask:\n    uses: prompt\n    with: { anchor: "\${matrix.adapter}" }\n`));
  assert.equal(error?.message, 'stage "ask" does not foreach "adapter"; add it to foreach: to use ${matrix.adapter}');
  const [unknown] = await loadErrors(base(`  ask:\n    uses: prompt\n    foreach: adapter\n    with: { anchor: "\${matrix.adaptr}" }\n`));
  assert.equal(unknown?.message, 'unknown matrix axis "adaptr" in ${matrix.adaptr} (did you mean "adapter"?)');
});

void test('malformed references: bad expression, unterminated, param path through a scalar', async () => {
  const errors = await loadErrors(
    base(`  a:
    uses: prompt
    with: { anchor: "\${env.HOME}" }
  b:
    uses: prompt
    with: { anchor: "\${params.t" }
  c:
    uses: prompt
    with: { anchor: "\${params.t.x}" }
  d:
    uses: prompt
    with: { anchor: "\${params.prompt.layers.7}" }
`),
  );
  assert.deepEqual(errors.map(brief), [
    '13:22 bad reference ${env.HOME}: expected ${params.KEY} or ${matrix.AXIS}',
    '16:22 unterminated `${`: close it with `}`, or write `$${` for a literal `${`',
    '19:22 param "t" is a number; it has no key "x" in ${params.t.x}',
    '22:22 param "prompt.layers" is a list of 2; it has no item "7" in ${params.prompt.layers.7}',
  ]);
});

void test('a whole-value reference of the wrong type is caught by the kind schema at the reference', async () => {
  const yaml = base(`  ask:\n    uses: prompt\n    with: { anchor: "\${params.prompt.layers}" }\n`);
  const [error] = await loadErrors(yaml);
  assert.equal(error?.message, 'stages.ask.with.anchor must be a string, not a list (kind "prompt")');
  assert.equal(spanText(yaml, error), '"${params.prompt.layers}"');
});

void test('paramBindings record which global param each with: key came from', async () => {
  const p = await loadOk(
    base(`  ask:
    uses: prompt
    with:
      anchor: \${params.prompt.anchor}
      layers: ['\${params.prompt.layers.0}', 4]
  both:
    uses: prompt
    with: { anchor: "\${params.name}-\${params.t}" }
`),
  );
  assert.deepEqual(p.stages.get('ask')?.paramBindings, [
    { key: 'anchor', value: 'My choice: **', from: 'prompt.anchor' },
    { key: 'layers', value: [3, 4], from: 'prompt.layers.0' },
    { key: 'temperature', value: 0.7 },
  ]);
  assert.deepEqual(p.stages.get('both')?.paramBindings, [
    { key: 'anchor', value: 'lora-0.5', from: 'name, t' },
    { key: 'temperature', value: 0.7 },
  ]);
});
