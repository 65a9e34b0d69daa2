/**
 * The report's header block: the loader records how a pipeline was loaded (profile, -S, the params they changed,
 * the file's hash), the engine hands that to the report, and the report shows it with the git commit, its dirty
 * flag and the wsflow version. None of it is part of any stage's key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../../stages/report/build-report.js';
import { loadOk } from '../../pipeline/helpers.js';
import { FIXTURES, REPO_ROOT, fixtureInputs } from './report-fixture.js';

const YAML = `params:
  prompt: { anchor: "My choice:", style: plain }
  temperature: 0.5
  tags: [1, 2]
stages:
  ask:
    uses: prompt
    with: { anchor: "\${params.prompt.anchor} \${params.prompt.style}", temperature: "\${params.temperature}", layers: "\${params.tags}" }
profiles:
  smoke:
    params:
      prompt: { style: terse }
`;

void test('the loader records the profile, the overrides, the params they changed and the hash of pipeline.yaml', async () => {
  const plain = await loadOk(YAML);
  assert.deepEqual(plain.origin, {
    profile: null,
    overrides: [],
    pipelineSha256: createHash('sha256').update(YAML).digest('hex'),
    paramChanges: [],
  });
  const changed = await loadOk(YAML, { profile: 'smoke', overrides: ['temperature=0.9', 'tags=[3]'] });
  assert.equal(changed.origin?.profile, 'smoke');
  assert.deepEqual(changed.origin?.overrides, ['temperature=0.9', 'tags=[3]']);
  assert.deepEqual(changed.origin?.paramChanges, [
    { path: 'prompt.style', value: 'terse', default: 'plain' },
    { path: 'temperature', value: 0.9, default: 0.5 },
    { path: 'tags', value: [3], default: [1, 2] },
  ]);
});

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
}

void test('the header shows profile, overrides, changed params, pipeline hash, git commit with its dirty flag, wsflow version and backend', async () => {
  const project = mkdtempSync(join(tmpdir(), 'wsflow-report-git-'));
  git(project, 'init', '-q');
  writeFileSync(join(project, 'pipeline.yaml'), 'stages: {}\n');
  git(project, 'add', 'pipeline.yaml');
  git(project, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '-m', 'init');
  const commit = git(project, 'rev-parse', 'HEAD');
  const run = {
    profile: 'smoke',
    overrides: ['train.lr=0.01'],
    pipelineSha256: 'ab'.repeat(32),
    paramChanges: [{ path: 'train.lr', value: 0.01, default: 0.0001 }],
  };
  const build = async (): Promise<{ html: string; md: string; json: Record<string, unknown> }> => {
    const outDir = mkdtempSync(join(tmpdir(), 'wsflow-report-hdr-'));
    await buildReport({
      inputs: fixtureInputs(),
      outDir,
      behavior: 'honesty',
      run,
      projectDir: project,
      builtBy: { stageId: 'report', runId: '1', stageKey: null, created: '2026-01-01T00:00:00.000Z' },
    });
    const out = {
      html: readFileSync(join(outDir, 'report.html'), 'utf8'),
      md: readFileSync(join(outDir, 'report.md'), 'utf8'),
      json: JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as Record<string, unknown>,
    };
    rmSync(outDir, { recursive: true, force: true });
    return out;
  };
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const clean = await build();
  const header = /<table class="header" id="report-header"[^]*?<\/table>/.exec(clean.html)?.[0] ?? '';
  assert.match(header, /<th scope="row">profile<\/th><td>smoke<\/td>/);
  assert.match(header, /<th scope="row">-S overrides<\/th><td>train\.lr=0\.01<\/td>/);
  assert.match(header, /train\.lr = 0\.01 \(default 0\.0001\)/);
  assert.match(header, new RegExp(`<td>${'ab'.repeat(32)}</td>`));
  assert.match(header, new RegExp(`<td>${commit} \\(clean\\)</td>`));
  assert.match(header, new RegExp(`wsflow version</th><td>${version.replaceAll('.', '\\.')}</td>`));
  assert.match(header, /backend<\/th><td>cpu<\/td>/, 'the backend the upstream executions recorded');
  assert.match(clean.md, /\| profile \| smoke \|/);
  assert.deepEqual((clean.json.header as Record<string, unknown>).git_commit, commit);
  assert.equal((clean.json.header as Record<string, unknown>).git_dirty, false);

  writeFileSync(join(project, 'pipeline.yaml'), 'stages: { }\n');
  const dirty = await build();
  assert.match(dirty.html, new RegExp(`<td>${commit} \\(dirty: tracked files modified\\)</td>`));
  rmSync(project, { recursive: true, force: true });
});

void test('without run facts (a context built by hand) the header says so instead of guessing', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'wsflow-report-nofacts-'));
  await buildReport({ inputs: fixtureInputs(), outDir, behavior: 'honesty', projectDir: outDir, builtBy: { stageId: 'report', runId: null, stageKey: null, created: 'x' } });
  const html = readFileSync(join(outDir, 'report.html'), 'utf8');
  assert.match(html, /profile<\/th><td>not recorded \(the engine passed no run facts\)<\/td>/);
  assert.match(html, /git commit<\/th><td>not a git work tree<\/td>/);
  rmSync(outDir, { recursive: true, force: true });
});

void test('through the CLI: an -S the report reads reruns only the report, whose header names it; a new commit reruns nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-report-facts-'));
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    `params: { n: 1 }
stages:
  my_eval:
    cmd: mkdir -p out/my_eval && cp ${join(FIXTURES, 'eval-lora', 'dilemmas_per_row.csv')} out/my_eval/
    outs: [out/my_eval]
  report:
    uses: report
    out: out/honesty
    with: { title: "study n=\${params.n}" }
    needs: { evals: [my_eval] }
`,
  );
  git(dir, 'init', '-q');
  git(dir, 'add', 'pipeline.yaml');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '-m', 'study');
  const cli = (...args: string[]): { status: number | null; stdout: string } =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'wsflow.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  assert.equal(cli('run', 'report').status, 0);
  const run = cli('run', 'report', '-S', 'n=2', '--json');
  assert.equal(run.status, 0, run.stdout);
  const events = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; stageId?: string });
  assert.ok(events.some((e) => e.type === 'stage-fresh' && e.stageId === 'my_eval'), 'the upstream stage is not rerun');
  assert.ok(events.some((e) => e.type === 'stage-succeeded' && e.stageId === 'report'), 'the report is');
  const md = readFileSync(join(dir, 'out', 'honesty', 'report.md'), 'utf8');
  assert.match(md, /\| -S overrides \| n=2 \|/);
  assert.match(md, /\| params changed from defaults \| n = 2 \(default 1\) \|/);
  assert.match(md, new RegExp(`\\| pipeline\\.yaml sha256 \\| ${createHash('sha256').update(readFileSync(join(dir, 'pipeline.yaml'))).digest('hex')} \\|`));
  assert.match(md, new RegExp(`\\| git commit \\| ${git(dir, 'rev-parse', 'HEAD')} \\(clean\\) \\|`), 'out/ is untracked: not dirty');

  writeFileSync(join(dir, 'notes.txt'), 'a new commit\n');
  git(dir, 'add', 'notes.txt');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '-m', 'notes');
  const status = cli('status', '-S', 'n=2');
  assert.equal(status.status, 0, `a commit is outside every key: ${status.stdout}`);
  rmSync(dir, { recursive: true, force: true });
});
