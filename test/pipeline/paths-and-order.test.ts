import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, loadErrors, loadOk, spanText } from './helpers.js';

void test('a cmd dep equal to or inside another stage\'s out makes it upstream; other deps stay external', async () => {
  const p = await loadOk(`params:
  lr: 0.1
stages:
  report:
    cmd: python report.py --lr \${params.lr}
    deps: [out/model/prompt.json, data/prepared, report.py, /etc/hostname, ../shared/x]
    params: [lr]
    outs: [report.md]
  prepare:
    cmd: python prepare.py
    deps: [prepare.py]
    outs: [data/prepared/]
  model:
    uses: prompt
    with: { anchor: a }
`);
  const report = p.stages.get('report');
  assert.ok(report);
  assert.deepEqual(report.needs, { model: ['model'], prepare: ['prepare'] });
  assert.deepEqual(report.deps, ['report.py', '/etc/hostname', '../shared/x']);
  assert.deepEqual(report.outs, ['report.md']);
  assert.deepEqual(report.params, { lr: 0.1 });
  assert.deepEqual(report.paramBindings, [{ key: 'lr', value: 0.1, from: 'lr' }]);
  assert.deepEqual(p.stages.get('prepare')?.outs, ['data/prepared']);
  // upstreams first even though report is declared first
  assert.deepEqual(p.order, ['prepare', 'model', 'report']);
});

void test('params a command interpolates count as its params even when not listed', async () => {
  const p = await loadOk(`params:
  train: { lr: 0.1, epochs: 3 }
stages:
  fit:
    cmd: python fit.py --epochs \${params.train.epochs}
    params: [train.lr]
    outs: [model.bin]
`);
  assert.deepEqual(p.stages.get('fit')?.params, { 'train.lr': 0.1, 'train.epochs': 3 });
  assert.deepEqual(p.warnings, []);
  const subtree = await loadOk(`params:
  train: { lr: 0.1, epochs: 3 }
stages:
  fit:
    cmd: python fit.py --epochs \${params.train.epochs}
    params: [train]
    outs: [model.bin]
`);
  assert.deepEqual(subtree.stages.get('fit')?.paramBindings, [{ key: 'train', value: { lr: 0.1, epochs: 3 }, from: 'train' }]);
});

void test('overlapping outs, unknown cmd params, deps that hold outs, a stage reading its own out', async () => {
  const yaml = `params:
  lr: 0.1
stages:
  a:
    cmd: make a
    outs: [data]
  b:
    cmd: make b
    outs: [data/b.txt, data]
  c:
    uses: prompt
    with: { anchor: c }
    out: data
  d:
    cmd: cat out > d.txt
    deps: [out, d.txt]
    params: [lrr]
    outs: [d.txt]
  e:
    uses: prompt
    with: { anchor: e }
    out: out/e
  f:
    uses: prompt
    with: { anchor: f }
    out: out/f
`;
  const errors = await loadErrors(yaml);
  assert.deepEqual(errors.map(brief), [
    '17:14 stage "d" params: unknown param "lrr" (did you mean "lr"?)',
  ]);
  const fixed = yaml.replace('params: [lrr]', 'params: [lr]');
  const again = await loadErrors(fixed);
  assert.deepEqual(again.map(brief), [
    '9:12 "data/b.txt" of stage "b" is inside out "data" of stage "a"; outs must not overlap',
    '9:24 "data" of stage "b" is also an out of stage "a"; each path has one writer',
    '13:10 "data" of stage "c" is also an out of stage "a"; each path has one writer',
    '16:12 deps entry "out" holds outs of e, f: list those outs (or paths inside them) as deps, so each dependency is exact',
    '16:17 stage "d" reads "d.txt", which it writes itself',
  ]);
  const overlap = again[1];
  assert.ok(overlap?.notes?.[0]?.span);
  assert.equal(overlap.notes[0].message, 'stage "a" writes "data" here');
  assert.equal(overlap.notes[0].span.line, 6);
  assert.equal(spanText(fixed, { severity: 'error', message: '', span: overlap.notes[0].span }), 'data');
});

void test('declaration order breaks ties in the topological order', async () => {
  const p = await loadOk(`stages:
  z: { cmd: make z, deps: [y.txt], outs: [z.txt] }
  a: { cmd: make a, outs: [a.txt] }
  y: { cmd: make y, deps: [a.txt], outs: [y.txt] }
  b: { cmd: make b, outs: [b.txt] }
`);
  assert.deepEqual(p.order, ['a', 'y', 'z', 'b']);
});

void test('a cycle is reported with its path and one note per edge, at the edge that makes it', async () => {
  const yaml = `stages:
  a:
    uses: prompt
    with: { anchor: a }
    needs: { model: c }
  b:
    cmd: make b
    deps: [out/a]
    outs: [b.txt]
  c:
    uses: prompt
    with: { anchor: c }
    needs: [b]
`;
  const errors = await loadErrors(yaml, { builtins: new Map([['prompt', { ...(await import('./helpers.js')).promptKind, inputs: { model: { description: 'm', optional: true }, b: { description: 'b', optional: true } } }]]) });
  assert.equal(errors.length, 1);
  const [cycle] = errors;
  assert.ok(cycle);
  assert.equal(brief(cycle), '2:3 dependency cycle: a → c → b → a (each needs the next)');
  assert.deepEqual(
    cycle.notes?.map((n) => `${n.span?.line}:${n.span?.col} ${n.message}`),
    ['5:21 a needs c', '13:13 c needs b', '8:12 b reads "out/a", which a writes'],
  );
  const self = await loadErrors(`stages:\n  a: { uses: prompt, with: { anchor: a }, needs: { model: a } }\n`);
  assert.deepEqual(self.map(brief), ['2:3 dependency cycle: a needs itself']);
  assert.deepEqual(self[0]?.notes?.map((n) => n.message), ['a needs a']);
});

void test('joinUnder gives path.join\'s string for every dir and out, by concatenation only where that is the same', async () => {
  const path = await import('node:path');
  const { joinUnder } = await import('../../src/pipeline/project-paths.js');
  const dirs = ['/a/b', '/', '/a/b/', '/a/./b', '/a//b', 'a/b', '/x', '//', '/a/b/..', '/a/b/.', ''];
  const rels = ['c', 'c/d', './c', 'c/.', '..', '../c', 'c/../d', 'c//d', '/c', 'c/', '', '.', '.hidden', 'c/..d', '..c', 'c/d.txt', 'c/...', 'c/./d', 'a b/c', 'é/"q"'];
  // twice: the second round answers from the memo of normalised dirs
  for (let round = 0; round < 2; round++) {
    for (const d of dirs) for (const r of rels) assert.equal(joinUnder(d, r), path.join(d, r), `${JSON.stringify(d)} + ${JSON.stringify(r)}`);
  }
});
