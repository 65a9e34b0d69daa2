/**
 * `wsflow report [--open]` as a user runs it: a real temp project, the real CLI in a child process, the real
 * engine building the report from a researcher's own `cmd:` eval stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO_ROOT } from './report-fixture.js';
import { tempDir } from '../../helpers/temp-dir.js';

const BIN = join(REPO_ROOT, 'bin', 'wsflow.js');

function wsflow(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.DISPLAY;
  delete base.WAYLAND_DISPLAY;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...base, NO_COLOR: '1', ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function project(yaml: string): string {
  const dir = tempDir('wsflow-report-cli-');
  writeFileSync(join(dir, 'pipeline.yaml'), yaml);
  return dir;
}

const STUDY = `stages:
  my_eval:
    cmd: mkdir -p out/my_eval && cp ${join(FIXTURES, 'eval-lora', 'dilemmas_per_row.csv')} out/my_eval/
    outs: [out/my_eval]
  report:
    uses: report
    out: out/honesty
    needs: { evals: [my_eval] }
`;

void test('wsflow report prints the page path, says how to build it, and finds it once `wsflow run report` built it', async () => {
  const dir = project(STUDY);
  const page = join(dir, 'out', 'honesty', 'report.html');

  const before = wsflow(dir, ['report']);
  assert.equal(before.code, 1, before.stderr);
  assert.equal(before.stdout, `${page}\n`);
  assert.match(before.stderr, /report has not been built yet; build it with: npx wsflow run report\n/);

  const run = wsflow(dir, ['run', 'report']);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.ok(existsSync(page));
  const md = readFileSync(join(dir, 'out', 'honesty', 'report.md'), 'utf8');
  // the researcher's cmd stage wrote no provenance.json: the report says so instead of inventing one
  assert.match(md, /stage my_eval wrote no provenance\.json/);
  assert.match(md, /\| dW:lora \| 1 \| 0\.00 \| −6\.25 \| \+3\.13 \|/);
  // the engine hands the run facts to the report: the header shows how the pipeline was loaded
  assert.match(md, /\| profile \| none \|/);
  assert.match(md, /\| pipeline\.yaml sha256 \| [0-9a-f]{64} \|/);

  const after = wsflow(dir, ['report']);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout, `${page}\n`);
  assert.equal(after.stderr, '');
});

void test('wsflow report --open: no display is said plainly; with one, the opener gets the page', async () => {
  const dir = project(STUDY);
  assert.equal(wsflow(dir, ['run', 'report']).code, 0);
  const page = join(dir, 'out', 'honesty', 'report.html');

  const headless = wsflow(dir, ['report', '--open']);
  assert.equal(headless.code, 0);
  assert.equal(headless.stdout, `${page}\n`);
  assert.match(headless.stderr, /not opened: no display \(DISPLAY and WAYLAND_DISPLAY are unset\); open the path above in a browser/);

  // a stand-in xdg-open on PATH records what it was asked to open
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin);
  const record = join(dir, 'opened.txt');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  const shown = wsflow(dir, ['report', '--open'], { DISPLAY: ':0', PATH: `${bin}:${process.env.PATH ?? ''}` });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stderr, /opening with xdg-open/);
  for (let i = 0; i < 50 && !existsSync(record); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(record, 'utf8'), page);
});

void test('wsflow report: no report stage, or an unknown --stage, is a usage error (exit 2)', () => {
  const none = project(`stages:
  a:
    cmd: echo hi > a.txt
    outs: [a.txt]
`);
  const r = wsflow(none, ['report']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pipeline\.yaml has no stage with "uses: report"/);

  const dir = project(STUDY);
  const s = wsflow(dir, ['report', '--stage', 'reprot']);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /no report stage "reprot"; report stages: report/);
});
