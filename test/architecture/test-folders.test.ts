/**
 * test/ mirrors the source folders: the tests of src/engine/plan/ are in test/engine/plan/, those of stages/report/
 * in test/stages/report/, those of bench/gpu/ in test/bench/gpu/. Fails naming each test folder that has no source
 * folder of the same path, so a test cannot drift into a folder a reader would not look in. The cross-cutting suites
 * and the support folders are the only top-level exceptions (DESIGN.md names them).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/repo-root.js';

/** Top-level test folders that test across the source folders (or hold what tests share), with why. */
export const CROSS_CUTTING: ReadonlyMap<string, string> = new Map([
  ['architecture', 'the import graph and the folder rules of the whole repository'],
  ['faults', 'fault injection across the engine: disk full, read-only mounts, kills at every commit point'],
  ['pipeline-study', 'the study end to end: pipeline.yaml through every kind to the report'],
  ['ci', 'the CI scripts and the GitHub workflow shipped for users (.ci/, .github/)'],
  ['fixtures', 'files the tests read'],
  ['helpers', 'utilities the tests share'],
]);

/**
 * Where test/<path> must find its source folder: src/<path>, or <path> itself for the source trees that live at the
 * repository root. `native/` (the C++ addon) is not one: its tests are those of src/core/native/.
 */
const ROOT_TREES = ['stages', 'bench'];

function sourceFolderOf(testPath: string): string | undefined {
  const top = testPath.split('/')[0] ?? '';
  const candidates = [`src/${testPath}`, ...(ROOT_TREES.includes(top) ? [testPath] : [])];
  return candidates.find((c) => existsSync(join(REPO_ROOT, c)) && statSync(join(REPO_ROOT, c)).isDirectory());
}

/**
 * Every folder under test/ that holds a file (relative to test/), the exceptions' trees left out. An empty folder is
 * skipped: git does not track one, so it is a leftover of a checkout, not a place where tests live.
 */
function testFolders(): string[] {
  const out: string[] = [];
  const walk = (rel: string): boolean => {
    let holdsFile = false;
    for (const e of readdirSync(join(REPO_ROOT, 'test', rel), { withFileTypes: true })) {
      if (!e.isDirectory()) {
        holdsFile = true;
        continue;
      }
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (rel === '' && CROSS_CUTTING.has(e.name)) continue;
      if (walk(p)) {
        out.push(p);
        holdsFile = true;
      }
    }
    return holdsFile;
  };
  walk('');
  return out.sort();
}

void test('every test folder has a source folder of the same path (src/<path>, stages/<path> or bench/<path>)', () => {
  const folders = testFolders();
  assert.ok(folders.includes('engine/plan') && folders.includes('stages/report'), `test folders not found: ${folders.join(', ')}`);
  const orphans = folders
    .filter((f) => sourceFolderOf(f) === undefined)
    .map((f) => `test/${f}/ has no source folder ${ROOT_TREES.includes(f.split('/')[0] ?? '') ? f : `src/${f}`}/`);
  assert.deepEqual(orphans, []);
});

void test('each cross-cutting exception is still a folder under test/', () => {
  for (const name of CROSS_CUTTING.keys()) assert.ok(existsSync(join(REPO_ROOT, 'test', name)), `test/${name}/ is gone: drop it from CROSS_CUTTING`);
});

void test('the rule rejects a folder that mirrors nothing, and one that mirrors a folder outside the source trees', () => {
  assert.equal(sourceFolderOf('engine/plan'), 'src/engine/plan');
  assert.equal(sourceFolderOf('stages/lib/steer'), 'stages/lib/steer');
  assert.equal(sourceFolderOf('bench/gpu'), 'bench/gpu');
  assert.equal(sourceFolderOf('experiment'), undefined);
  assert.equal(sourceFolderOf('native'), undefined);
  assert.equal(sourceFolderOf('engine/no-such-folder'), undefined);
});
