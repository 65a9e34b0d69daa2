/**
 * The corpus of broken pipelines (test/fixtures/broken-pipelines/NN-name/): each is run through the real CLI,
 * `wsflow dag` in a temp copy of its project, which must exit 2, print exactly expected.txt on stderr, print
 * nothing on stdout and write nothing. expected.txt may say {project} for the temp directory and
 * {builtin-kinds} for the list of built-in kinds, which grows as stages are added.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { builtinKinds } from '../../stages/index.js';
import { listNames } from '../../src/pipeline/suggest.js';
import { fixturesDir, repoRoot } from './helpers.js';

const run = promisify(execFile);
const corpusDir = path.join(fixturesDir, 'broken-pipelines');
const cases = (await readdir(corpusDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

function builtinKindsPhrase(): string {
  const names = [...builtinKinds.keys()].sort();
  return names.length === 0 ? 'there are no built-in kinds' : `built-in kinds: ${listNames(names, 12)}`;
}

/** Every file under `dir` with its size and mtime: what "nothing written" compares. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const lines = await Promise.all(
    entries.map(async (e) => {
      const full = path.join(e.parentPath, e.name);
      const info = await stat(full);
      return `${path.relative(dir, full)} ${e.isDirectory() ? 'dir' : `${info.size} ${info.mtimeMs}`}`;
    }),
  );
  return lines.sort();
}

void test('the corpus holds at least 25 broken pipelines, each with pipeline.yaml and expected.txt', async () => {
  assert.ok(cases.length >= 25, `only ${cases.length} cases`);
  for (const name of cases) {
    const files = await readdir(path.join(corpusDir, name));
    assert.ok(files.includes('pipeline.yaml') && files.includes('expected.txt'), name);
  }
});

void describe('broken pipelines through `wsflow dag`', { concurrency: 2 }, () => {
  for (const name of cases) {
    void test(name, async () => {
      const source = path.join(corpusDir, name);
      const project = await mkdtemp(path.join(tmpdir(), `wsflow-broken-${name}-`));
      try {
        await cp(source, project, { recursive: true, filter: (p) => !/(expected|args)\.txt$/.test(p) });
        await cp(path.join(fixturesDir, 'kinds'), path.join(project, 'kinds'), { recursive: true });
        const before = await snapshot(project);
        const argsText = await readFile(path.join(source, 'args.txt'), 'utf8').catch(() => '');
        const args = argsText.split('\n').filter((a) => a !== '');
        const expected = (await readFile(path.join(source, 'expected.txt'), 'utf8'))
          .replaceAll('{project}', project)
          .replaceAll('{builtin-kinds}', builtinKindsPhrase());
        const result = await run(process.execPath, [path.join(repoRoot, 'bin', 'wsflow.js'), 'dag', ...args], {
          cwd: project,
          env: { ...process.env, NO_COLOR: '1' },
        }).then(
          () => ({ code: 0, stdout: '', stderr: '' }),
          (err: { code: number; stdout: string; stderr: string }) => err,
        );
        assert.equal(result.stderr, expected);
        assert.equal(result.code, 2);
        assert.equal(result.stdout, '');
        assert.deepEqual(await snapshot(project), before, 'the failed load wrote files');
      } finally {
        await rm(project, { recursive: true, force: true });
      }
    });
  }
});
