/**
 * Two `wsflow run` processes on one project at the same time: no stage runs twice, both finish, and both see the
 * same results; the second one says it is waiting for the first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, countBy } from '../../helpers/rig.js';

const PIPELINE = `
matrix: { part: [a, b, c, d] }
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data, gate: gates/data }
  work:
    uses: ./kinds/write.js
    foreach: part
    needs: { in: data }
    with: { text: "work \${matrix.part}" }
  report:
    uses: ./kinds/write.js
    needs: { in: "work@*" }
    with: { text: report }
  summary:
    cmd: "cat out/report/result.txt | tr a-z A-Z > summary.txt"
    deps: [out/report]
    outs: [summary.txt]
`;

void test('two concurrent runs: no stage runs twice, both finish, identical results', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    // the first run holds data (gated) until the second has said that it waits for it
    const first = rig.spawn(['run', '-j', '2']);
    await rig.started('data');
    const second = rig.spawn(['run', '-j', '2']);
    await rig.until(() => /… waiting for data \(running in pid \d+/.test(second.output()), 'the second run to wait for data');
    rig.release('data');
    const [a, b] = await Promise.all([first.result, second.result]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    const counts = countBy(rig.invocations());
    for (const id of ['data', 'work@a', 'work@b', 'work@c', 'work@d', 'report']) {
      assert.equal(counts.get(id), 1, `${id} ran ${counts.get(id) ?? 0} times`);
    }
    // the cmd stage too: exactly one execution recorded
    const executions = rig.withDb(
      (db) => db.prepare(`SELECT stage_id, COUNT(*) AS n FROM executions GROUP BY stage_id`).all() as { stage_id: string; n: number }[],
    );
    assert.deepEqual(
      executions.map((e) => [e.stage_id, e.n]).sort(),
      [['data', 1], ['report', 1], ['summary', 1], ['work@a', 1], ['work@b', 1], ['work@c', 1], ['work@d', 1]],
    );
    assert.match(a.stdout + b.stdout, /… waiting for \S+ \(running in pid \d+/);
    // what each run did adds up: every stage executed by exactly one of them, the other found it done
    const executed = (out: string): string[] => [...out.matchAll(/^✓ (\S+)/gm)].map((m) => m[1] ?? '');
    assert.deepEqual([...executed(a.stdout), ...executed(b.stdout)].sort(), ['data', 'report', 'summary', 'work@a', 'work@b', 'work@c', 'work@d']);
    assert.match(rig.read('summary.txt'), /^REPORT/);
    const status = await rig.exec(['status']);
    assert.equal(status.code, 0, status.stdout);
  } finally {
    rig.cleanup();
  }
});
