import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk } from './helpers.js';

void test('foreach over one and two axes: ids, matrix values, default out dirs, declaration order', async () => {
  const p = await loadOk(`matrix:
  adapter: [lora, dora]
  seed: [0, 1]
stages:
  data: { uses: prompt, with: { anchor: a } }
  train:
    uses: prompt
    foreach: [adapter, seed]
    with: { anchor: "\${matrix.adapter}/\${matrix.seed}" }
  eval:
    uses: prompt
    foreach: adapter
    with: { anchor: e }
`);
  assert.deepEqual(p.order, ['data', 'train@lora-0', 'train@lora-1', 'train@dora-0', 'train@dora-1', 'eval@lora', 'eval@dora']);
  const cell = p.stages.get('train@dora-1');
  assert.ok(cell);
  assert.equal(cell.name, 'train');
  assert.deepEqual(cell.matrix, { adapter: 'dora', seed: 1 });
  assert.equal(cell.outDir, 'out/train/dora/1');
  assert.deepEqual(cell.outs, ['out/train/dora/1']);
  assert.equal(cell.params['anchor'], 'dora/1');
  assert.equal(p.stages.get('data')?.outDir, 'out/data');
  assert.deepEqual(p.stages.get('data')?.matrix, {});
});

void test('planned stages carry kind source, resources (kind default, overrides, units), description and span', async () => {
  const p = await loadOk(`stages:
  ask:
    uses: prompt
    description: asks the model
    with: { anchor: a }
  light:
    uses: prompt
    with: { anchor: a }
    resources: { class: cpu, cpus: 4, mem: 1.5G, time: 1h30m, gpus: 0 }
  local:
    uses: ./kinds/writer.js
    with: { message: hi }
  shell:
    cmd: echo hi > hi.txt
    outs: [hi.txt]
    resources: { mem: 512, time: 90 }
`);
  const ask = p.stages.get('ask');
  assert.deepEqual(ask?.source, { type: 'kind', uses: 'prompt' });
  assert.deepEqual(ask?.resources, { class: 'accel' });
  assert.equal(ask?.description, 'asks the model');
  assert.deepEqual({ line: ask?.span?.line, col: ask?.span?.col, file: ask?.span?.file }, { line: 2, col: 3, file: 'pipeline.yaml' });
  assert.deepEqual(p.stages.get('light')?.resources, { class: 'cpu', cpus: 4, gpus: 0, memMB: 1536, timeMin: 90 });
  const local = p.stages.get('local');
  assert.equal(local?.source.type, 'kind');
  assert.ok(local?.source.type === 'kind' && local.source.modulePath?.endsWith('/kinds/writer.js'));
  assert.deepEqual(local?.params, { message: 'hi', repeat: 1, scale: 1, tags: [], mode: 'fast' });
  assert.equal(p.kinds.get('./kinds/writer.js')?.name, 'writer');
  assert.equal(p.kinds.get('prompt')?.version, '1.0.0');
  const shell = p.stages.get('shell');
  assert.deepEqual(shell?.resources, { class: 'cpu', memMB: 512, timeMin: 90 });
  assert.equal(shell?.outDir, '');
});

void test('stage structure errors: neither or both of uses/cmd, keys of the other stage type, unknown foreach axis', async () => {
  const errors = await loadErrors(`matrix:
  adapter: [lora]
stages:
  nothing:
    description: no body
  both:
    uses: prompt
    cmd: echo
  kindy:
    uses: prompt
    with: { anchor: a }
    outs: [x]
    params: [a]
  shelly:
    cmd: echo
    with: { a: 1 }
    out: x
  looped:
    uses: prompt
    with: { anchor: a }
    foreach: [adaptor]
`);
  assert.deepEqual(errors.map(brief), [
    '4:3 stage "nothing" needs either `uses:` (a stage kind) or `cmd:` (a shell command)',
    '8:5 stage "both" has both `uses:` and `cmd:`; a stage is either a kind or a command',
    '12:5 `outs:` is not allowed in a `uses:` stage: a `uses:` stage writes one directory, set with `out:`',
    '13:5 `params:` is not allowed in a `uses:` stage: a `uses:` stage gets values through `with:`, e.g. with: { lr: ${params.train.lr} }',
    '16:5 `with:` is not allowed in a `cmd:` stage: a cmd stage takes no `with:`; put ${params.KEY} in cmd and list the key in `params:`',
    '17:5 `out:` is not allowed in a `cmd:` stage: a cmd stage lists what it writes in `outs:`, not `out:`',
    '21:15 stage "looped" foreach names unknown matrix axis "adaptor" (did you mean "adapter"?); matrix axes: adapter',
  ]);
});

void test('out paths: normalised, kept inside the project', async () => {
  const p = await loadOk(`stages:
  a: { uses: prompt, with: { anchor: a }, out: ./results//a/ }
`);
  assert.equal(p.stages.get('a')?.outDir, 'results/a');
  const errors = await loadErrors(`stages:
  a: { uses: prompt, with: { anchor: a }, out: ../elsewhere }
  b: { uses: prompt, with: { anchor: a }, out: /tmp/b }
  c: { uses: prompt, with: { anchor: a }, out: . }
`);
  assert.deepEqual(errors.map(brief), [
    '2:48 out "../elsewhere" is outside the project directory; stages write only inside it',
    '3:48 out "/tmp/b" is outside the project directory; stages write only inside it',
    '4:48 out "." names the project directory itself',
  ]);
});
