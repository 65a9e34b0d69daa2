/**
 * Auditing a project's cache against a clean run's: what the crash and fault-injection suites assert after every
 * fault. "Nothing lost" means: no execution recorded as succeeded (and not evicted) points at missing, truncated
 * or wrong content, and what out/ holds after the next run equals a clean run's outputs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Rig } from './rig.js';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function objectPath(rig: Rig, hash: string): string {
  return rig.path(join('cache', 'objects', hash.slice(0, 2), hash.slice(2)));
}

/** stage id → output hash of its latest succeeded execution (a clean run's reference) */
export function outputHashes(rig: Rig): Map<string, string> {
  const rows = rig.withDb(
    (db) => db.prepare(`SELECT stage_id, output_hash FROM executions WHERE status = 'succeeded' ORDER BY id`).all() as { stage_id: string; output_hash: string }[],
  );
  return new Map(rows.map((r) => [r.stage_id, r.output_hash]));
}

/**
 * Every succeeded, non-evicted execution: its manifest and objects are intact and its output is the reference's
 * (one hash per stage, or the set of hashes clean runs of every params tried gave).
 */
export function assertNoFalseHit(rig: Rig, reference: ReadonlyMap<string, string | ReadonlySet<string>>, trial: string): void {
  if (!existsSync(rig.path('cache/state.db'))) return;
  const rows = rig.withDb(
    (db) =>
      db.prepare(`SELECT id, stage_id, output_hash FROM executions WHERE status = 'succeeded' AND evicted = 0`).all() as {
        id: number;
        stage_id: string;
        output_hash: string;
      }[],
  );
  for (const row of rows) {
    const where = `${trial}: execution #${row.id} of ${row.stage_id}`;
    const expected = reference.get(row.stage_id);
    const ok = typeof expected === 'string' ? row.output_hash === expected : (expected?.has(row.output_hash) ?? false);
    assert.ok(ok, `${where} recorded a different output (${row.output_hash}) than a clean run`);
    const manifestFile = objectPath(rig, row.output_hash);
    assert.ok(existsSync(manifestFile), `${where}: manifest missing`);
    const manifestBytes = readFileSync(manifestFile);
    assert.equal(sha256(manifestBytes), row.output_hash, `${where}: manifest content does not match its name`);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { files: [string, string, number, number][] };
    for (const [path, hash, size] of manifest.files) {
      const obj = objectPath(rig, hash);
      assert.ok(existsSync(obj), `${where}: object for ${path} missing`);
      assert.equal(statSync(obj).size, size, `${where}: object for ${path} truncated`);
      assert.equal(sha256(readFileSync(obj)), hash, `${where}: object for ${path} has wrong content`);
    }
  }
}

/** No execution or run is left recorded as running once every process has ended. */
export function assertNothingRunning(rig: Rig, trial: string): void {
  const n = rig.withDb((db) => (db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE status = 'running'`).get() as { n: number }).n);
  assert.equal(n, 0, `${trial}: a run is still recorded as running`);
}
