/**
 * A built-in kind's `codePaths` (stages/index.ts) are what its `version` vouches for: an edit there without a
 * bump is a status warning. They must match the import graph, or an edited formula goes unnoticed (a file the
 * kind imports is not covered) or an unrelated edit warns (an entry covers nothing the kind imports).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinKinds } from '../../stages/index.js';
import { REPO_ROOT, transitiveImports } from '../helpers/import-graph.js';

/** A codePaths entry (relative to dist/stages, .js) as the repository-relative source path it stands for. */
function sourceOf(entry: string): string {
  const joined = join('stages', entry).split('\\').join('/');
  return joined.replace(/\.js$/, '.ts');
}

function covers(entry: string, file: string): boolean {
  const src = sourceOf(entry);
  return file === src || file.startsWith(`${src}/`);
}

const kindDirs = readdirSync(join(REPO_ROOT, 'stages'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'lib')
  .map((e) => e.name)
  .sort();

void test('every folder under stages/ but lib/ is one registered kind, named as its folder', () => {
  assert.deepEqual([...builtinKinds.keys()].sort(), kindDirs);
});

for (const name of kindDirs) {
  void test(`codePaths of ${name} cover exactly what it imports`, () => {
    const kind = builtinKinds.get(name);
    assert.ok(kind?.codePaths, `${name} has no codePaths`);
    const entries = kind.codePaths;
    const files = [...transitiveImports(`stages/${name}/index.ts`)];
    assert.ok(files.some((f) => f.startsWith('stages/lib/') || f.startsWith('src/')), `${name}: the import graph was not followed`);
    const uncovered = files.filter((f) => !entries.some((e) => covers(e, f)));
    assert.deepEqual(uncovered, [], `${name} imports these, but its codePaths do not cover them`);
    const stale = entries.filter((e) => !files.some((f) => covers(e, f)));
    assert.deepEqual(stale, [], `${name}'s codePaths list these, but it imports nothing under them`);
  });
}

void test('the coverage check itself: a file, a folder and the paths above stages/', () => {
  assert.ok(covers('lib/csv.js', 'stages/lib/csv.ts'));
  assert.ok(covers('lib/steer', 'stages/lib/steer/steering.ts'));
  assert.ok(!covers('lib/steer', 'stages/lib/steering-other.ts'));
  assert.ok(covers('../src/core', 'src/core/qwen3/model.ts'));
  assert.ok(!covers('../src/core', 'src/contract/params.ts'));
});
