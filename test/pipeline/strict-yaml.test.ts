/**
 * What `yaml` lets through and a build file must not (issue 12): aliases without an anchor before them, cycles
 * through aliases, unknown tags, NUL bytes, one param path defined twice, time and memory limits that are no
 * limit, out paths too long for a file name. And what it must accept: CR-only line endings, with right positions.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/pipeline/format-diagnostic.js';
import { MAX_OUT_COMPONENT_BYTES } from '../../src/pipeline/name-limits.js';
import { parseMemoryMB, parseTimeMinutes } from '../../src/pipeline/resource-values.js';
import { Rig } from '../helpers/rig.js';
import { brief, loadErrors, loadOk, spanText } from './helpers.js';

void test('an alias with no anchor before it is an error at the alias, never a key that silently disappears', async () => {
  const undefinedAlias = 'params:\n  x: *nope\n  y: 1\nstages:\n  s:\n    cmd: echo ${params.y}\n';
  assert.deepEqual((await loadErrors(undefinedAlias)).map(brief), ['2:6 undefined alias *nope: no anchor &nope is defined before it']);

  const before = 'params:\n  x: *a\n  y: &a 1\nstages:\n  s:\n    cmd: echo ${params.x}\n';
  const [error] = await loadErrors(before);
  assert.equal(error && brief(error), '2:6 alias *a comes before its anchor &a: an alias can only repeat a value anchored earlier in the file');
  assert.deepEqual(error?.notes?.map((n) => `${n.span?.line}:${n.span?.col} ${n.message}`), ['3:9 &a is defined here']);

  // a merge key whose alias is undefined drops every merged key: also an error
  const merge = 'params:\n  train:\n    <<: *defaults\n    steps: 1\nstages:\n  s:\n    cmd: echo ${params.train.steps}\n';
  assert.deepEqual((await loadErrors(merge)).map(brief), ['3:9 undefined alias *defaults: no anchor &defaults is defined before it']);

  // an anchor defined twice: the alias repeats the latest one before it, as YAML says
  const redefined = 'params:\n  a: &v 1\n  b: *v\n  c: &v 2\n  d: *v\nstages:\n  s:\n    cmd: echo ${params.b} ${params.d}\n';
  const source = (await loadOk(redefined)).stages.get('s')?.source;
  assert.equal(source?.type === 'cmd' && source.cmd, 'echo 1 2');
});

void test('an alias inside the value it repeats is a cycle, reported (it used to overflow the stack)', async () => {
  const map = 'params:\n  a: &x\n    b: *x\nstages:\n  s:\n    cmd: echo hi\n';
  assert.deepEqual((await loadErrors(map)).map(brief), ['3:8 alias *x is inside the value it repeats (a cycle)']);
  const list = 'params:\n  a: &x [1, *x]\nstages:\n  s:\n    cmd: echo hi\n';
  assert.deepEqual((await loadErrors(list)).map(brief), ['2:13 alias *x is inside the value it repeats (a cycle)']);
});

void test('unknown tags are errors; YAML core tags still work', async () => {
  const yaml = 'params:\n  shared: !include shared.yaml\n  n: !!float abc\nstages:\n  s:\n    cmd: echo hi\n';
  const errors = await loadErrors(yaml);
  assert.deepEqual(errors.map(brief), [
    '2:11 unsupported YAML tag !include: pipeline.yaml is plain YAML (no !include or custom types); remove the tag',
    '3:6 unsupported YAML tag !!float: pipeline.yaml is plain YAML (no !include or custom types); remove the tag',
  ]);
  const p = await loadOk('params:\n  n: !!str 3\nstages:\n  s:\n    cmd: echo ${params.n}\n');
  assert.deepEqual(p.params, { n: '3' });
});

void test('a NUL byte in a value or a key is an error at its place', async () => {
  const yaml = 'params:\n  a: "x\\0y"\n  "k\\0": 1\nstages:\n  s:\n    cmd: echo hi\n';
  const errors = await loadErrors(yaml);
  assert.deepEqual(errors.map(brief), [
    '2:6 a string holds a NUL byte (\\0), which no command line, file name or environment can carry',
    '3:3 a key holds a NUL byte (\\0), which no command line, file name or environment can carry',
  ]);
  assert.equal(spanText(yaml, errors[0]!), '"x\\0y"');
});

void test('CR-only line endings are line breaks: the file loads, and errors point at the right line and column', async () => {
  const good = 'params:\r  lr: 0.1\rstages:\r  fit:\r    cmd: |\r      python fit.py \\\r        --lr ${params.lr}\r    outs: [model.bin]\r';
  const p = await loadOk(good);
  const fit = p.stages.get('fit');
  assert.equal(fit?.source.type === 'cmd' && fit.source.cmd, 'python fit.py \\\n  --lr 0.1\n');
  assert.deepEqual(fit?.outs, ['model.bin']);

  const bad = 'params:\r  lr: 0.1\rstages:\r  fit:\r    cmd: python fit.py --lr ${params.lrr}\r';
  const [error] = await loadErrors(bad);
  assert.equal(error && brief(error), '5:29 unknown param "lrr" (did you mean "lr"?) in ${params.lrr}');
  // the excerpt is that one line, with the caret under the reference
  assert.equal(
    error && formatDiagnostic(error, bad, { color: false }),
    [
      'pipeline.yaml:5:29: error: unknown param "lrr" (did you mean "lr"?) in ${params.lrr}',
      '  5 |     cmd: python fit.py --lr ${params.lrr}',
      '    |                             ^~~~~~~~~~~~~',
    ].join('\n'),
  );
  // mixed endings (CRLF, then CR, then LF) count lines the same way
  const mixed = 'stages:\r\n  a:\r    cmd: x\n    outz: [o]\n';
  assert.deepEqual((await loadErrors(mixed)).map(brief), ['4:5 unknown key "outz" in stages.a (did you mean "outs"?)']);
});

void test('params that define one dotted path twice are an error at the later definition', async () => {
  const yaml = 'params:\n  a.b: 1\n  a: {b: 2}\nstages:\n  s:\n    cmd: echo ${params.a.b}\n';
  const [error, ...rest] = await loadErrors(yaml);
  assert.equal(rest.length, 0);
  assert.equal(error && brief(error), '3:7 params define "a.b" twice: ${params.a.b} and -S a.b=… could mean either');
  assert.deepEqual(error?.notes?.map((n) => `${n.span?.line}:${n.span?.col} ${n.message}`), ['2:3 "a.b" is first defined here']);
  // nested, and through a list index
  assert.deepEqual((await loadErrors('params:\n  x:\n    y: {z.w: 1, z: {w: 2}}\nstages:\n  s:\n    cmd: echo hi\n')).map(brief), [
    '3:21 params define "x.y.z.w" twice: ${params.x.y.z.w} and -S x.y.z.w=… could mean either',
  ]);
  assert.deepEqual((await loadErrors('params:\n  l: [5]\n  l.0: 6\nstages:\n  s:\n    cmd: echo hi\n')).map(brief), [
    '3:3 params define "l.0" twice: ${params.l.0} and -S l.0=… could mean either',
  ]);
  // a dotted key alone is no conflict: a subtree holding it is passed whole
  const p = await loadOk('params:\n  lrs: {"0.1": a, "0.01": b}\nstages:\n  s:\n    uses: prompt\n    with: { anchor: x, sampling: "${params.lrs}" }\n');
  assert.deepEqual(p.params, { lrs: { '0.1': 'a', '0.01': 'b' } });
});

void test('resources.time and resources.mem that are no limit are errors at the value', async () => {
  const yaml = `stages:
  a:
    cmd: x
    resources: { time: 0m, mem: 0M }
  b:
    cmd: y
    resources: { time: 0s }
  c:
    cmd: z
    resources: { time: 99999999999d, mem: 99999999999999T }
`;
  assert.deepEqual((await loadErrors(yaml)).map(brief), [
    '4:24 resources.time "0m" is no time at all; give at least 1m',
    '4:33 resources.mem "0M" asks for no memory; give at least 1M',
    '7:24 resources.time "0s" is no time at all; give at least 1m',
    '10:24 resources.time "99999999999d" is longer than any scheduler accepts (at most 2147483647 minutes, about 4000 years)',
    '10:43 resources.mem "99999999999999T" is more memory than any scheduler accepts (at most 1099511627776 MB)',
  ]);
  assert.deepEqual(
    ['90m', '2h', '1h30m', '1d12h', '90s', '1s', 45].map((v) => parseTimeMinutes(v)),
    [90, 120, 90, 2160, 2, 1, 45].map((value) => ({ ok: true, value })),
  );
  assert.deepEqual(['512M', '16G', '1.5T', '64K', 100].map((v) => parseMemoryMB(v)), [512, 16384, 1572864, 1, 100].map((value) => ({ ok: true, value })));
  assert.equal(parseTimeMinutes('1h 30m').ok, false);
  assert.equal(parseTimeMinutes('').ok, false);
  // the schema's number form: an integer too large for any scheduler
  assert.deepEqual((await loadErrors('stages:\n  a:\n    cmd: x\n    resources: { time: 1e300 }\n')).map(brief), [
    '4:24 resources.time 1e+300 is longer than any scheduler accepts (at most 2147483647 minutes, about 4000 years)',
  ]);
});

void test('an out path with a component too long for a file name (with its swap sibling) is a planning error', async () => {
  const fits = 'n'.repeat(MAX_OUT_COMPONENT_BYTES);
  const p = await loadOk(`stages:\n  ${fits}:\n    uses: prompt\n    with: { anchor: x }\n`);
  assert.deepEqual(p.stages.get(fits)?.outs, [`out/${fits}`]);

  const long = 'n'.repeat(MAX_OUT_COMPONENT_BYTES + 1);
  const [implicit] = await loadErrors(`stages:\n  ${long}:\n    uses: prompt\n    with: { anchor: x }\n`);
  assert.match(implicit?.message ?? '', /^stage id "n{24}…n{12}" is too long for a file name: its output directory out\/n+…n+ has a component of 227 bytes; file names hold 255 bytes and wsflow adds up to 29 while it swaps an out in, so a component may have at most 226$/);
  assert.equal(implicit?.span?.line, 2);

  // bytes, not characters: 114 two-byte letters are 228 bytes
  const wide = 'é'.repeat(114);
  const [explicit] = await loadErrors(`stages:\n  s:\n    cmd: x\n    outs: [data/${wide}/x.txt]\n`);
  assert.equal(explicit && brief(explicit).replace(/out path .* has/, 'out path … has'), '4:12 out path … has a component of 228 bytes; file names hold 255 bytes and wsflow adds up to 29 while it swaps an out in, so a component may have at most 226');
});

void test('the longest stage name the limit allows really runs and is restored; one byte more is refused before running', async () => {
  const name = 'n'.repeat(MAX_OUT_COMPONENT_BYTES);
  const rig = new Rig({ files: { 'pipeline.yaml': `stages:\n  ${name}:\n    uses: ./kinds/write.js\n    with: { text: hi }\n` } });
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(rig.read(`out/${name}/result.txt`), 'hi');
    rmSync(rig.path('out'), { recursive: true });
    const restored = await rig.exec(['run']);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.equal(rig.read(`out/${name}/result.txt`), 'hi');

    rig.write('pipeline.yaml', `stages:\n  ${name}n:\n    uses: ./kinds/write.js\n    with: { text: hi }\n`);
    const refused = await rig.exec(['run']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^pipeline\.yaml:2:3: error: stage id "n+…n+" is too long for a file name/);
    assert.equal(rig.exists(`out/${name}n`), false);
  } finally {
    rig.cleanup();
  }
});
