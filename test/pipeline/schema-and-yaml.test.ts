import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk, spanText } from './helpers.js';

void test('YAML syntax errors, duplicate keys and a second document are reported at their position', async () => {
  assert.deepEqual((await loadErrors('stages:\n  a: { cmd: x\n')).map(brief), ['3:1 YAML syntax: Flow map in block collection must be sufficiently indented and end with a }']);
  assert.deepEqual((await loadErrors('stages:\n  a: { cmd: x }\n  a: { cmd: y }\n')).map(brief), ['3:3 duplicate key "a"']);
  assert.deepEqual((await loadErrors('stages:\n  a: { cmd: x }\n---\nb: 1\n')).map(brief), [
    '3:1 a pipeline file holds one YAML document, but a second one starts here',
  ]);
  assert.deepEqual((await loadErrors('')).map(brief), ['1:1 the pipeline file is empty: it needs at least a `stages:` map']);
  assert.deepEqual((await loadErrors('params: { x: .inf }\nstages: { a: { cmd: x } }\n')).map(brief), [
    '1:14 non-finite numbers (.inf, .nan) cannot be hashed as JSON; quote the value to make it a string',
  ]);
});

void test('schema errors name the place, the cause and the node: unknown keys, types, names, enums, patterns', async () => {
  const yaml = `params: { a: 1 }
stage:
  x: 1
stages:
  bad-name: { cmd: x }
  ok:
    cmd: run
    dep: [a]
    foreach: 3
    resources: { class: gpu, mem: 16GB, time: 2 hours, cpus: 0 }
    needs: { model: [] }
    outs: []
matrix:
  adapter: [lora, lora, "a b"]
  empty: []
`;
  const errors = await loadErrors(yaml);
  assert.deepEqual(errors.map(brief), [
    '2:1 unknown key "stage" at the top level (did you mean "stages"?)',
    '5:3 invalid name "bad-name" in stages: names start with a letter or _ and contain only letters, digits and _',
    '8:5 unknown key "dep" in stages.ok (did you mean "deps"?)',
    '9:14 stages.ok.foreach must be a string or a list, not an integer',
    '10:25 stages.ok.resources.class must be one of accel, cpu, not "gpu" (did you mean "cpu"?)',
    '10:35 stages.ok.resources.mem "16GB" is not valid: expected memory: MB as a number, or a size such as 512M, 16G',
    '10:47 stages.ok.resources.time "2 hours" is not valid: expected time limit: minutes as a number, or a duration such as 90m, 2h, 1d12h, 1h30m',
    '10:62 stages.ok.resources.cpus must be at least 1, not 0',
    '11:21 stages.ok.needs.model must not be an empty list',
    '14:19 matrix.adapter lists "lora" twice',
    '14:25 matrix.adapter[2] "a b" is not valid: expected a matrix value: letters, digits, _, . and + (values become part of stage ids and output paths)',
    '15:10 matrix.empty must not be an empty list',
  ]);
  assert.equal(spanText(yaml, errors[0] ?? { severity: 'error', message: '' }), 'stage');
});

void test('the top level must be a map with stages', async () => {
  assert.deepEqual((await loadErrors('- a\n- b\n')).map(brief), ['1:1 the pipeline file must be a map, not a list']);
  assert.deepEqual((await loadErrors('params: {}\n')).map(brief), ['1:1 the pipeline file is missing the required key "stages"']);
  assert.deepEqual((await loadErrors('stages: {}\n')).map(brief), ['1:9 stages must not be empty']);
});

void test('unknown kinds, bad with: for the kind (unknown key, type, required, enum) and bad kind modules; a misspelt required key is one error', async () => {
  const yaml = `stages:
  a: { uses: promtp }
  b:
    uses: prompt
    with: { anchr: x }
  c:
    uses: ./kinds/writer.js
    with: { message: 5, repeat: 0, mode: quick, options: { seed: x } }
  d:
    uses: ./kinds/missing.js
  e:
    uses: ./kinds/broken.js
`;
  const errors = await loadErrors(yaml, { files: { 'kinds/broken.js': 'export default { name: "broken" };\n' } });
  assert.match(errors[1]?.message ?? '', /looked for \/.*\/kinds\/missing\.js$/);
  assert.deepEqual(errors.map(brief), [
    '2:14 unknown stage kind "promtp" (did you mean "prompt"?); built-in kinds: prompt, report (a project-local kind is a module path such as ./kinds/promtp.js)',
    `10:11 cannot find stage kind module ./kinds/missing.js; looked for ${errors[1]?.message.split('; looked for ')[1] ?? '?'}`,
    '12:11 stage kind module ./kinds/broken.js does not export a valid stage kind: it has no string `version`',
  ]);
  const fixed = yaml.replace(/ {2}d:\n.*\n {2}e:\n.*\n/s, '').replace('promtp', 'prompt');
  const withErrors = await loadErrors(fixed);
  assert.deepEqual(withErrors.map(brief), [
    '2:3 stages.a.with is missing the required key "anchor" (kind "prompt")',
    '5:13 unknown key "anchr" in stages.b.with (did you mean "anchor"?) (kind "prompt")',
    '8:22 stages.c.with.message must be a string, not an integer (kind "writer")',
    '8:33 stages.c.with.repeat must be at least 1, not 0 (kind "writer")',
    '8:42 stages.c.with.mode must be one of fast, slow, not "quick" (kind "writer")',
    '8:66 stages.c.with.options.seed must be an integer, not a string (kind "writer")',
  ]);
});

void test('YAML anchors, aliases and merge keys work, and errors in merged values point at the anchor', async () => {
  const yaml = `defaults: &base
  uses: prompt
  with: { anchor: shared, temperature: 0.2 }
stages:
  a: { <<: *base }
  b:
    <<: *base
    with: { anchor: own }
`;
  const errors = await loadErrors(yaml);
  assert.deepEqual(errors.map(brief), ['1:1 unknown key "defaults" at the top level; expected one of: params, matrix, stages, profiles, executors']);
  const p = await loadOk(`params:
  x: &anchor hello
stages:
  a: &tmpl
    uses: prompt
    with: { anchor: *anchor }
  b:
    <<: *tmpl
    description: copy
`);
  assert.deepEqual(p.stages.get('b')?.params, { anchor: 'hello', temperature: 0.7 });
  assert.equal(p.stages.get('b')?.description, 'copy');
});

void test('unused params and matrix axes are warnings, not errors', async () => {
  const p = await loadOk(`params:
  used: { a: 1, b: 2 }
  unused: { c: 3 }
matrix:
  adapter: [lora]
  seed: [0]
stages:
  s:
    uses: prompt
    foreach: adapter
    with: { anchor: "a\${params.used.a}" }
`);
  assert.deepEqual(p.warnings.map(brief), [
    '2:17 param "used.b" is not used by any stage',
    '3:3 param "unused" is not used by any stage',
    '6:3 matrix axis "seed" is not used by any stage\'s foreach',
  ]);
  assert.ok(p.warnings.every((w) => w.severity === 'warning'));
});
