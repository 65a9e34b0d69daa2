/**
 * Overall progress of a run: each finished stage's line says how many of the run's stages are done and, from the
 * stages' previous durations, the ETA of the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
params:
  steps: 4
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data }
  train:
    uses: ./kinds/write.js
    needs: { in: data }
    with: { text: "train \${params.steps}", steps: "\${params.steps}", sleepMs: 300 }
  eval:
    uses: ./kinds/write.js
    needs: { in: train }
    with: { text: eval }
`;

void test('finished stages print "n/N stages" and an ETA from the previous durations', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stderr);
    // nothing ran before: no durations to estimate from
    assert.match(first.stdout, /^✓ data .* {2}\[1\/3 stages, ETA unknown \(2 never timed\)\]$/m);
    assert.match(first.stdout, /^✓ eval .* {2}\[3\/3 stages\]$/m);

    const second = await rig.exec(['run', '-S', 'steps=2']);
    assert.equal(second.code, 0, second.stderr);
    // data is fresh (done, not printed); after train, what is left is eval, which took well under a second
    const eta = /^✓ train .* {2}\[2\/3 stages, ETA (\d+)ms\]$/m.exec(second.stdout);
    assert.ok(eta, second.stdout);
    const train = /^✓ train {2}(\d+)ms/m.exec(first.stdout);
    assert.ok(train && Number(eta[1]) < Number(train[1]), 'the ETA is eval\'s duration, not train\'s');
    assert.match(second.stdout, /^✓ eval .* {2}\[3\/3 stages\]$/m);

    const json = (await rig.exec(['run', '-S', 'steps=3', '--json'])).stdout.trim().split('\n');
    for (const line of json) assert.doesNotThrow(() => JSON.parse(line), line);
  } finally {
    rig.cleanup();
  }
});
