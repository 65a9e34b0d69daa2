/**
 * Faults of the machine, each of which must end in one line (never `internal error` and a stack), a non-zero exit,
 * nothing recorded as done that is not, and a next run that recovers: a damaged state database (garbage,
 * truncated, zeroed), a full disk during a stage and during a commit (a tmpfs of a few hundred KiB), a read-only
 * cache/, a read-only project (where `status` still works), symlinks leading out of the project. Mounting needs
 * root; without it those cases skip and say why. Figures are printed as a test diagnostic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_KINDS_DIR, Rig, WSFLOW_BIN } from '../helpers/rig.js';
import { assertNoFalseHit, assertNothingRunning, outputHashes } from '../helpers/cache-audit.js';
import { probeMount, withReadOnly, withTmpfs } from './mounts.js';
import { spawn } from 'node:child_process';

const tally = { trials: 0, faults: 0 };
const probeDir = mkdtempSync(join(tmpdir(), 'wsflow-probe-'));
const mountProblem = probeMount(probeDir);
rmSync(probeDir, { recursive: true, force: true });

const PIPELINE = `
params: { n: 3 }
stages:
  a:
    uses: ./kinds/write.js
    with: { text: "a \${params.n}", files: 3 }
  b:
    cmd: "cat out/a/result.txt > b.txt"
    deps: [out/a]
    outs: [b.txt]
`;

/** One line on stderr, the given exit, no stack trace. */
function assertOneLine(r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /internal error|\n\s+at /, `${what}: a stack trace`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', pattern, what);
}

for (const damage of ['garbage', 'truncated', 'zeroed header'] as const) {
  void test(`a ${damage} state database is one line naming it and the fix; following the fix recovers`, async () => {
    const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
    try {
      assert.equal((await rig.exec(['run'])).code, 0);
      const db = rig.path('cache/state.db');
      if (damage === 'garbage') writeFileSync(db, Buffer.from('this is not a database, it is a grocery list\n'.repeat(200)));
      else if (damage === 'truncated') truncateSync(db, 4096 + 100);
      else {
        const bytes = readFileSync(db);
        bytes.fill(0, 0, 100);
        writeFileSync(db, bytes);
      }
      for (const f of ['cache/state.db-wal', 'cache/state.db-shm']) rmSync(rig.path(f), { force: true });
      tally.trials++;
      tally.faults++;
      for (const args of [['status'], ['run'], ['explain', 'a'], ['gc'], ['fsck'], ['metrics']]) {
        const r = await rig.exec(args);
        assertOneLine(
          r,
          3,
          /^error: the state database cache\/state\.db is damaged \(.+\); it only records runs.*`mv cache\/state\.db cache\/state\.db\.damaged && rm -f cache\/state\.db-wal cache\/state\.db-shm`/,
          `${damage}: wsflow ${args.join(' ')}`,
        );
      }
      // the advice, followed
      renameSync(db, `${db}.damaged`);
      const run = await rig.exec(['run']);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(rig.read('b.txt'), rig.read('out/a/result.txt'));
      assert.equal((await rig.exec(['status'])).code, 0);
    } finally {
      rig.cleanup();
    }
  });
}

void test('disk full during a stage and during a commit: the stage fails in one line, nothing is recorded as done, the next run recovers', { skip: mountProblem }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'wsflow-enospc-'));
  try {
    await withTmpfs(root, 1200, async () => {
      const rig = new ProjectAt(root, `
params: { kib: 700 }
stages:
  big:
    cmd: "head -c \${params.kib}000 /dev/zero > big.bin"
    outs: [big.bin]
  k:
    uses: ./kinds/write.js
    with: { text: "k \${params.kib}", files: 2 }
`);
      // 700 kB written fits; storing a copy in cache/objects (the commit) does not
      const first = await rig.exec(['run', '-k']);
      tally.trials++;
      tally.faults++;
      assert.equal(first.code, 1, first.stdout + first.stderr);
      assert.doesNotMatch(first.stdout + first.stderr, /internal error|\n\s+at /);
      assert.match(first.stdout, /✗ big failed after \S+: no space left on the device writing cache\/objects\//);
      const big = rig.rows(`SELECT status FROM executions WHERE stage_id = 'big'`);
      assert.deepEqual(big, [{ status: 'failed' }], 'nothing recorded as done');
      assert.ok(!existsIn(root, 'big.bin'), "a failed command's partial outs are removed, giving the space back");
      assert.deepEqual(objectTemps(root), [], 'no partial object left in cache/objects');
      // 2 MB does not even fit the stage: it fails in its command
      const second = await rig.exec(['run', '-k', '-S', 'kib=2000']);
      tally.trials++;
      tally.faults++;
      assert.equal(second.code, 1, second.stdout + second.stderr);
      assert.match(second.stdout, /✗ big failed after \S+: command exited with status 1/);
      assert.match(second.stdout, /No space left on device/);
      assert.doesNotMatch(second.stdout + second.stderr, /internal error|\n\s+at /);
      // the next run, with an output that fits, recovers
      const third = await rig.exec(['run', '-S', 'kib=300']);
      assert.equal(third.code, 0, third.stdout + third.stderr);
      const status = await rig.exec(['status', '-S', 'kib=300']);
      assert.equal(status.code, 0, status.stdout);
      assert.equal(rig.rows(`SELECT COUNT(*) AS n FROM runs WHERE status = 'running'`)[0]?.n, 0);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

void test('a read-only cache/: run says so in one line and records nothing; status still works', { skip: mountProblem }, async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const reference = outputHashes(rig);
    rmSync(rig.path('out'), { recursive: true });
    await withReadOnly(rig.path('cache'), async () => {
      tally.trials++;
      tally.faults++;
      const status = await rig.exec(['status']);
      assert.equal(status.code, 1, status.stdout + status.stderr);
      assert.match(status.stdout, /^a\s+cached/m);
      const run = await rig.exec(['run', '-S', 'n=4']);
      assertOneLine(run, 3, /^error: cannot open the state database cache\/state\.db \(.*\): its directory is missing, unreadable or read-only$/, 'run');
      assert.equal(rig.exists('out'), false, 'nothing written');
    });
    assertNoFalseHit(rig, reference, 'after the read-only cache');
    const run = await rig.exec(['run']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /↺ restored a from cache/);
    assertNothingRunning(rig, 'read-only cache');
  } finally {
    rig.cleanup();
  }
});

void test('a read-only project: status, explain, metrics and logs only read, and work', { skip: mountProblem }, async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    await withReadOnly(rig.dir, async () => {
      tally.trials++;
      tally.faults++;
      const status = await rig.exec(['status']);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      assert.match(status.stdout, /Everything up to date \(2 stages\)/);
      const json = await rig.exec(['status', '--json', '-S', 'n=5']);
      assert.equal(json.code, 1, json.stderr);
      const stages = (JSON.parse(json.stdout) as { stages: { id: string; state: string }[] }).stages;
      assert.equal(stages.find((x) => x.id === 'a')?.state, 'stale');
      for (const args of [['explain', 'a'], ['metrics'], ['logs', 'b']]) {
        const r = await rig.exec(args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      }
      const run = await rig.exec(['run', '-S', 'n=5']);
      assertOneLine(run, 3, /^error: cannot open the state database cache\/state\.db/, 'run on a read-only project');
    });
  } finally {
    rig.cleanup();
  }
});

void test('symlinks leading out of the project: planning errors at the out, gc leaves them alone, victims intact', async () => {
  const victim = mkdtempSync(join(tmpdir(), 'wsflow-victim-'));
  writeFileSync(join(victim, 'keep.txt'), 'precious\n');
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const cases: { setup(): void; args: string[]; code: number }[] = [
      { setup: () => symlinkSync(victim, rig.path(`cache/trees/${'d'.repeat(64)}`)), args: ['gc'], code: 0 },
      { setup: () => symlinkSync(victim, rig.path('cache/objects/zz')), args: ['gc'], code: 0 },
      { setup: () => symlinkSync(victim, rig.path('cache/objects/yy')), args: ['fsck'], code: 0 },
      {
        setup: () => {
          rmSync(rig.path('out'), { recursive: true });
          symlinkSync(victim, rig.path('out'));
        },
        args: ['run'],
        code: 2,
      },
    ];
    for (const c of cases) {
      c.setup();
      tally.trials++;
      tally.faults++;
      const r = await rig.exec(c.args);
      assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /internal error|\n\s+at /);
      assert.deepEqual(readdirSync(victim), ['keep.txt']);
      assert.equal(readFileSync(join(victim, 'keep.txt'), 'utf8'), 'precious\n');
    }
  } finally {
    rig.cleanup();
    rmSync(victim, { recursive: true, force: true });
  }
});

void test('fault-injection figures', (t) => {
  // for the README's reliability section; a loss would have failed one of the tests above
  t.diagnostic(`fault-injection environment-faults: ${tally.trials} trials, ${tally.faults} faults, 0 lost${mountProblem ? ` (mount cases skipped: ${mountProblem})` : ''}`);
});

/** A project in a given directory (the tmpfs), run through the real CLI. */
class ProjectAt {
  constructor(
    readonly dir: string,
    pipeline: string,
  ) {
    cpSync(ENGINE_KINDS_DIR, join(dir, 'kinds'), { recursive: true });
    writeFileSync(join(dir, 'pipeline.yaml'), pipeline);
  }

  exec(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env.FORCE_COLOR;
      const child = spawn(process.execPath, [WSFLOW_BIN, ...args], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  rows(sql: string): Record<string, unknown>[] {
    const db = new Database(join(this.dir, 'cache', 'state.db'), { fileMustExist: true });
    try {
      return db.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
}

function existsIn(dir: string, name: string): boolean {
  return readdirSync(dir).includes(name);
}

function objectTemps(dir: string): string[] {
  const objects = join(dir, 'cache', 'objects');
  const out: string[] = [];
  let prefixes: string[] = [];
  try {
    prefixes = readdirSync(objects);
  } catch {
    return out;
  }
  for (const p of prefixes) for (const n of readdirSync(join(objects, p))) if (n.includes('.tmp-')) out.push(`${p}/${n}`);
  return out;
}
