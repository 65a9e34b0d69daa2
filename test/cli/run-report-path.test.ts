/**
 * A run that leaves a report stage done (run, restored or fresh) ends with the report page's path; `--json` has it
 * as a report-ready event. A run that does not touch the report says nothing of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO_ROOT } from '../stages/report/report-fixture.js';

void test('Done is followed by the report path when a report stage ran or is fresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-report-path-'));
  try {
    writeFileSync(
      join(dir, 'pipeline.yaml'),
      `stages:
  my_eval:
    cmd: mkdir -p out/my_eval && cp ${join(FIXTURES, 'eval-lora', 'dilemmas_per_row.csv')} out/my_eval/
    outs: [out/my_eval]
  report:
    uses: report
    out: out/honesty
    needs: { evals: [my_eval] }
`,
    );
    const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'wsflow.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    const page = join(dir, 'out', 'honesty', 'report.html');

    const upstream = cli('run', 'my_eval');
    assert.equal(upstream.status, 0, upstream.stderr);
    assert.doesNotMatch(upstream.stdout, /Report:/);

    const built = cli('run', 'report');
    assert.equal(built.status, 0, built.stderr);
    assert.ok(built.stdout.endsWith(`Report: ${page}\n`), built.stdout);
    assert.match(built.stdout, /^Done .*\nReport: /m);

    const fresh = cli('run');
    assert.match(fresh.stdout, /^Everything up to date .*\nReport: /m);

    const json = cli('run', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; path?: string; stageId?: string });
    assert.deepEqual(json.at(-1), { type: 'report-ready', stageId: 'report', path: page });
    assert.equal(json.at(-2)?.type, 'run-end');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
