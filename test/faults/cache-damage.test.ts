/**
 * Byte flips and truncations of cache objects — file objects and manifests, chosen by a seeded RNG — between runs.
 * Whatever is damaged, a restore never serves it (the stage runs again, or is restored from intact objects) and
 * `wsflow fsck` finds every damaged object. Figures (trials, faults, losses) are printed as a test diagnostic.
 * WSFLOW_FAULT_SEED sets the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { Rig } from '../helpers/rig.js';
import { assertNoFalseHit, objectPath, outputHashes } from '../helpers/cache-audit.js';
import { Rng } from '../../src/core/random.js';

const PIPELINE = `
stages:
  a:
    uses: ./kinds/write.js
    with: { text: "a", files: 4 }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: b, files: 2 }
  c:
    cmd: "mkdir -p r && seq 1 3000 > r/nums.txt && cat out/b/result.txt > r/b.txt"
    deps: [out/b]
    outs: [r]
`;

type Damage = 'flip' | 'truncate' | 'empty' | 'append';
const DAMAGES: Damage[] = ['flip', 'truncate', 'empty', 'append'];

function outputs(rig: Rig): Map<string, string> {
  const out = rig.snapshot('out');
  for (const [k, v] of rig.snapshot('r')) out.set(`r/${k}`, v);
  return out;
}

/** Every object (file or manifest) the recorded outputs use. */
function objectsInUse(rig: Rig, reference: ReadonlyMap<string, string>): string[] {
  const hashes = new Set<string>();
  for (const tree of reference.values()) {
    hashes.add(tree);
    const manifest = JSON.parse(readFileSync(objectPath(rig, tree), 'utf8')) as { files: [string, string][] };
    for (const [, h] of manifest.files) hashes.add(h);
  }
  return [...hashes].sort();
}

function damage(file: string, how: Damage, rng: Rng): void {
  chmodSync(file, 0o644);
  const bytes = readFileSync(file);
  if (how === 'flip') {
    const i = Math.floor(rng.uniform() * bytes.length);
    bytes[i] = (bytes[i] ?? 0) ^ (1 << Math.floor(rng.uniform() * 8));
    writeFileSync(file, bytes);
  } else if (how === 'truncate') truncateSync(file, Math.floor(rng.uniform() * bytes.length));
  else if (how === 'empty') truncateSync(file, 0);
  else writeFileSync(file, Buffer.concat([bytes, Buffer.from('x')]));
  chmodSync(file, 0o444);
}

void test('damaged cache objects are never restored, and fsck finds every one', async (t) => {
  const rng = new Rng(Number(process.env.WSFLOW_FAULT_SEED ?? 20261207));
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  let trials = 0;
  let faults = 0;
  const log: string[] = [];
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const reference = outputHashes(rig);
    const referenceOutputs = outputs(rig);
    for (let i = 0; i < 16; i++) {
      const objects = objectsInUse(rig, reference);
      const victim = objects[Math.floor(rng.uniform() * objects.length)] ?? '';
      const how = DAMAGES[i % DAMAGES.length] ?? 'flip';
      const viaFsck = i % 2 === 1;
      const trial = `trial ${i}: ${how} object ${victim.slice(0, 12)} (${viaFsck ? 'fsck first' : 'restore finds it'})`;
      log.push(trial);
      trials++;
      const before = readFileSync(objectPath(rig, victim));
      damage(objectPath(rig, victim), how, rng);
      if (!readFileSync(objectPath(rig, victim)).equals(before)) faults++;
      if (viaFsck) {
        const fsck = await rig.exec(['fsck', '--json']);
        assert.equal(fsck.code, 1, `${trial}: fsck must report the damage\n${fsck.stdout}${fsck.stderr}`);
        const report = JSON.parse(fsck.stdout) as { corruptObjects: { hash: string }[] };
        assert.deepEqual(
          report.corruptObjects.map((o) => o.hash),
          [victim],
          trial,
        );
      }
      // out/ and the cmd out gone: everything must come back from the cache or be made again
      rmSync(rig.path('out'), { recursive: true, force: true });
      rmSync(rig.path('r'), { recursive: true, force: true });
      const run = await rig.exec(['run']);
      assert.equal(run.code, 0, `${trial}: ${run.stdout}${run.stderr}`);
      assert.doesNotMatch(run.stdout + run.stderr, /internal error/);
      assert.deepEqual(outputs(rig), referenceOutputs, `${trial}: what was restored differs from a clean run`);
      assertNoFalseHit(rig, reference, trial);
      const after = await rig.exec(['fsck']);
      assert.equal(after.code, 0, `${trial}: the cache is whole again\n${after.stdout}`);
    }
    t.diagnostic(`fault-injection cache-damage: ${trials} trials, ${faults} damaged objects, 0 lost`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\ntrials so far:\n${log.join('\n')}`, { cause: err });
  } finally {
    rig.cleanup();
  }
});
