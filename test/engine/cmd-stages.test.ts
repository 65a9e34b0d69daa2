/**
 * cmd stages (DVC-style): deps content-hashed, params hashed by value, outs cached and restored, a dep on another
 * stage's out making it upstream; kinds and cmds in one DAG with the same keys, reasons and cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
params: { n: 3, unrelated: 0 }
stages:
  gen:
    cmd: "sh gen.sh \${params.n} && echo gen >> calls.log"
    deps: [gen.sh]
    params: [n]
    outs: [data/nums.txt]
  total:
    cmd: "awk '{s+=$1} END {print s}' data/nums.txt > total.txt && echo total >> calls.log"
    deps: [data/nums.txt]
    outs: [total.txt]
  report:
    uses: ./kinds/write.js
    needs: { in: total }
    with: { text: "report \${params.unrelated}" }
`;

const GEN = 'mkdir -p data\nseq 1 "$1" > data/nums.txt\n';

function newRig(): Rig {
  return new Rig({ files: { 'pipeline.yaml': PIPELINE, 'gen.sh': GEN } });
}

function calls(rig: Rig): string[] {
  return rig.exists('calls.log') ? rig.read('calls.log').trim().split('\n') : [];
}

void test('cmd stages: outs cached, params and deps in the key, a dep on an out links the stages', async () => {
  const rig = newRig();
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(calls(rig), ['gen', 'total']);
    assert.equal(rig.read('total.txt'), '6\n');
    assert.equal(rig.read('out/report/result.txt'), 'report 0\n[total] total.txt: 6\n');

    // a param it reads
    const status = await rig.exec(['status', '-S', 'n=4']);
    assert.match(status.stdout, /^gen\s+stale\s+← param n 3 → 4$/m);
    assert.match(status.stdout, /^total\s+stale\s+← upstream gen \(may cut off/m);
    assert.equal((await rig.exec(['run', '-S', 'n=4'])).code, 0);
    assert.deepEqual(calls(rig), ['gen', 'total', 'gen', 'total']);
    assert.equal(rig.read('total.txt'), '10\n');

    // a dep whose content changes without changing the output: gen reruns, the cascade stops
    rig.write('gen.sh', `# a comment\n${GEN}`);
    const dep = await rig.exec(['status', '-S', 'n=4']);
    assert.match(dep.stdout, /^gen\s+stale\s+← dep gen\.sh changed$/m);
    const rerun = await rig.exec(['run', '-S', 'n=4']);
    assert.match(rerun.stdout, /✓ gen {2}\S+ {2}\(output unchanged\)/);
    assert.deepEqual(calls(rig).slice(4), ['gen']);

    // an out deleted or edited by hand is restored from the cache, not rerun
    rig.write('total.txt', 'hand edit\n');
    const edited = await rig.exec(['status', '-S', 'n=4']);
    assert.match(edited.stdout, /^total\s+cached\s+← output total\.txt modified \(total\.txt\)$/m);
    const restore = await rig.exec(['run', '-S', 'n=4']);
    assert.match(restore.stdout, /↺ restored total from cache/);
    assert.equal(rig.read('total.txt'), '10\n');
    assert.deepEqual(calls(rig).slice(5), []);

    // back to n=3: gen.sh changed since n=3 ran, so gen reruns; its output is the n=3 output, so total is restored
    const back = await rig.exec(['run']);
    assert.match(back.stdout, /▶ gen {2}← param n 4 → 3\n/);
    assert.match(back.stdout, /↺ restored total from cache/);
    assert.equal(rig.read('data/nums.txt'), '1\n2\n3\n');
    assert.equal(rig.read('total.txt'), '6\n');
    assert.deepEqual(calls(rig).slice(5), ['gen']);
  } finally {
    rig.cleanup();
  }
});

void test('a cmd that fails, or does not write a declared out, fails the stage; a missing dep is a planning error', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
params: { mode: fail }
stages:
  a:
    cmd: "if [ \${params.mode} = fail ]; then echo boom >&2; exit 3; fi; echo ok > a.txt"
    params: [mode]
    outs: [a.txt, b.txt]
`,
    },
  });
  try {
    const failed = await rig.exec(['run']);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /✗ a failed after \S+: command exited with status 3\n {4}│ boom/);
    const noOut = await rig.exec(['run', '-S', 'mode=ok']);
    assert.equal(noOut.code, 1);
    assert.match(noOut.stdout, /✗ a failed after \S+: the command did not write its declared out b\.txt/);
    assert.equal(rig.withDb((db) => (db.prepare(`SELECT COUNT(*) AS n FROM executions WHERE status = 'succeeded'`).get() as { n: number }).n), 0);

    rig.write('pipeline.yaml', `
stages:
  a:
    cmd: "cat input.txt > a.txt"
    deps: [input.txt]
    outs: [a.txt]
`);
    const missing = await rig.exec(['run']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /pipeline\.yaml:3:3: error: stage a: dep input\.txt does not exist \(no stage declares it in outs\)/);
  } finally {
    rig.cleanup();
  }
});
