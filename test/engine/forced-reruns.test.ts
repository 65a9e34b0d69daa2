/**
 * `wsflow run -R/--force TARGET` and `-F/--force-all` (issue 18): a forced stage runs again although fresh, the
 * execution row and the stage log say "forced", and its dependents rerun only if its output changed (early cutoff).
 * Through the real CLI, with real child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data }
  train:
    uses: ./kinds/write.js
    needs: { in: data }
    with: { text: train }
  report:
    uses: ./kinds/write.js
    needs: { in: train }
    with: { text: report }
  noise:
    cmd: mkdir -p out/noise && od -An -N8 -tx8 /dev/urandom > out/noise/n.txt
    outs: [out/noise]
  uses_noise:
    cmd: mkdir -p out/uses && cp out/noise/n.txt out/uses/n.txt
    deps: [out/noise/n.txt]
    outs: [out/uses]
`;

interface Row {
  stage_id: string;
  forced: number;
  log_path: string | null;
}

function executions(rig: Rig): Row[] {
  return rig.withDb((db) => db.prepare('SELECT stage_id, forced, log_path FROM executions ORDER BY id').all() as Row[]);
}

void test('-R reruns the named stage although fresh, records it as forced, and an unchanged output stops the cascade', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run', 'report'])).code, 0);
    rig.clearInvocations();

    const dry = await rig.exec(['run', '--dry-run', '-R', 'train']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /train\s+would run\n\s+← forced \(run --force\)/);

    const before = executions(rig).length;
    const forced = await rig.exec(['run', '-R', 'train']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(rig.invocations(), ['train'], 'only train runs: its output is byte-identical, so report stays fresh');
    const rows = executions(rig).slice(before);
    assert.deepEqual(rows.map((r) => [r.stage_id, r.forced]), [['train', 1]]);
    assert.match(readFileSync(rows[0]?.log_path ?? '', 'utf8'), /# forced \(run --force\)/);
    assert.equal(executions(rig).filter((r) => r.forced === 0 && r.stage_id === 'train').length, 1, 'the first run was not forced');
    const explain = await rig.exec(['explain', 'train']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /on \S+ \(local\), forced \(run --force\)/);

    rig.clearInvocations();
    const all = await rig.exec(['run', 'report', '-F']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(rig.invocations(), ['data', 'train', 'report']);

    const unknown = await rig.exec(['run', '-R', 'trian']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown target "trian" \(did you mean "train"\?\)/);
  } finally {
    rig.cleanup();
  }
});

void test('a forced stage whose output changes reruns its dependents', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run', 'uses_noise'])).code, 0);
    const first = rig.read('out/uses/n.txt');
    const before = executions(rig).length;
    const forced = await rig.exec(['run', '--force', 'noise', 'uses_noise']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(
      executions(rig).slice(before).map((r) => [r.stage_id, r.forced]),
      [
        ['noise', 1],
        ['uses_noise', 0],
      ],
      'noise wrote new bytes: uses_noise reruns, not forced',
    );
    assert.notEqual(rig.read('out/uses/n.txt'), first);
  } finally {
    rig.cleanup();
  }
});
