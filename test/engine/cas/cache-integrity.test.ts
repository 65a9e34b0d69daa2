/**
 * A cache hit is verified before it is trusted: a deleted or truncated object makes the stage run again
 * instead of restoring garbage, and so does an object whose bytes changed in place (the restore hashes what it
 * copies). `wsflow fsck` checks the whole cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../../helpers/rig.js';

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

const SEQ_PIPELINE = `
stages:
  a:
    cmd: mkdir -p r && seq 1 2000 > r/nums.txt
    outs: [r]
  b:
    cmd: wc -l < r/nums.txt > b.txt
    deps: [r]
    outs: [b.txt]
`;

void test('issue 12 HIGH: an object corrupted without changing its size is detected while restoring, evicted, and the stage reruns', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': SEQ_PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const clean = rig.read('r/nums.txt');
    const victim = objectOf(rig, 'a', 'r/nums.txt');
    const bytes = readFileSync(victim);
    bytes[100] = 'X'.charCodeAt(0);
    chmodSync(victim, 0o644);
    writeFileSync(victim, bytes);
    rmSync(rig.path('r'), { recursive: true });
    rmSync(rig.path('b.txt'));
    rig.clearInvocations();
    const run = await rig.exec(['run']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const warnings = run.stdout.split('\n').filter((l) => l.includes('does not match its content hash'));
    assert.equal(warnings.length, 1, run.stdout);
    assert.match(warnings[0] ?? '', /^⚠ a: cache object [0-9a-f]{12} for r\/nums\.txt does not match its content hash: evicted it .*running the stage again$/);
    assert.match(run.stdout, /✓ a\b/);
    assert.match(run.stdout, /↺ restored b from cache/);
    assert.equal(rig.read('r/nums.txt'), clean, 'the restored output is the clean one, not the corrupt object');
    assert.equal(rig.read('b.txt').trim(), '2000');
    assert.equal((await rig.exec(['fsck'])).code, 0, 'the cache is intact again');
  } finally {
    rig.cleanup();
  }
});

void test('wsflow fsck finds a flipped byte and a truncation, evicts them with the trees sharing their inode, exit 1; then 0', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const intact = await rig.exec(['fsck']);
    assert.equal(intact.code, 0, intact.stdout + intact.stderr);
    assert.match(intact.stdout, /^Checked \d+ objects \(.*\) and 1 trees: all intact\.$/m);
    const flipped = objectOf(rig, 'a', 'extra-1.txt');
    const truncated = objectOf(rig, 'a', 'extra-2.txt');
    const bytes = readFileSync(flipped);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    chmodSync(flipped, 0o644);
    writeFileSync(flipped, bytes);
    truncateSync(truncated, 1);
    const r = await rig.exec(['fsck', '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { corruptObjects: unknown[]; removedTrees: number; evictedExecutions: number; ok: boolean };
    assert.equal(report.corruptObjects.length, 2);
    assert.equal(report.removedTrees, 1, "a's tree (b's input) hard-links the damaged objects");
    assert.equal(report.evictedExecutions, 1);
    assert.equal(rig.exists(join('cache', 'trees')) && readdirSync(rig.path('cache/trees')).length, 0);
    const status = await rig.exec(['status']);
    assert.match(status.stdout, /^a\s+fresh/m, 'out/ still holds the good copy');
    rmSync(rig.path('out/a'), { recursive: true });
    rig.clearInvocations();
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.deepEqual(rig.invocations(), ['a'], 'a runs again instead of being restored from damaged objects');
    assert.equal((await rig.exec(['fsck'])).code, 0);
  } finally {
    rig.cleanup();
  }
});

void test('a stage never reads a damaged input: the shared tree is rehashed, and the object is repaired from the upstream copy in out/', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
params: { w: 1 }
stages:
  a:
    uses: ./kinds/write.js
    with: { text: a, files: 3 }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: "b \${params.w}" }
`,
    },
  });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const clean = rig.read('out/b/result.txt');
    // damage a's result.txt object in place: the materialised tree b read from shares its inode
    const victim = objectOf(rig, 'a', 'result.txt');
    const bytes = readFileSync(victim);
    bytes[0] = (bytes[0] ?? 0) ^ 0x20;
    chmodSync(victim, 0o644);
    writeFileSync(victim, bytes);
    rig.clearInvocations();
    const run = await rig.exec(['run', '-S', 'w=2']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual(rig.invocations(), ['b'], 'a stays fresh (out/a is intact); b reruns');
    assert.equal(rig.read('out/b/result.txt'), clean.replace('b 1', 'b 2'), 'b read the intact bytes of a');
    assert.equal((await rig.exec(['fsck'])).code, 0, 'the object was stored again from out/a');
  } finally {
    rig.cleanup();
  }
});
