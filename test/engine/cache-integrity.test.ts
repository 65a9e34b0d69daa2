/**
 * A cache hit is verified before it is trusted: a deleted or truncated object makes the stage run again
 * instead of restoring garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
params: { v: 1 }
stages:
  a:
    uses: ./kinds/write.js
    with: { text: "a \${params.v}", files: 3 }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: b }
`;

function objectOf(rig: Rig, stageId: string, file: string): string {
  const hash = rig.withDb(
    (db) =>
      (db.prepare(`SELECT output_hash FROM executions WHERE stage_id = ? AND status = 'succeeded' ORDER BY id LIMIT 1`).get(stageId) as {
        output_hash: string;
      }).output_hash,
  );
  const obj = (h: string): string => rig.path(join('cache', 'objects', h.slice(0, 2), h.slice(2)));
  const manifest = JSON.parse(readFileSync(obj(hash), 'utf8')) as { files: [string, string, number, number][] };
  const entry = manifest.files.find((f) => f[0] === file);
  if (!entry) throw new Error(`${file} not in the output of ${stageId}`);
  return obj(entry[1]);
}

for (const damage of ['deleted', 'truncated'] as const) {
  void test(`a ${damage} cache object is detected on hit and the stage reruns`, async () => {
    const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
    try {
      assert.equal((await rig.exec(['run'])).code, 0);
      assert.equal((await rig.exec(['run', '-S', 'v=2'])).code, 0);
      // going back to v=1 would restore a and b from the cache; damage one object of a's output first
      const victim = objectOf(rig, 'a', 'extra-2.txt');
      if (damage === 'deleted') rmSync(victim);
      else truncateSync(victim, 1);
      const status = await rig.exec(['status']);
      assert.match(status.stdout, /^a\s+stale\s+← param v 2 → 1\n\s+← previous result not in cache: cache object for extra-2\.txt (is missing|has 1 bytes, expected \d+)/m);
      rig.clearInvocations();
      const run = await rig.exec(['run']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(rig.invocations(), ['a'], 'a reruns; b is restored (a reproduces the same output)');
      assert.match(run.stdout, /↺ restored b from cache/);
      assert.equal(rig.read('out/a/extra-2.txt'), 'a 1\n2');
      assert.equal((await rig.exec(['status'])).code, 0);
    } finally {
      rig.cleanup();
    }
  });
}
