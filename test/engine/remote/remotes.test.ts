/**
 * Remotes (issue 14), through the real CLI and real servers: a directory remote in a temp dir and an S3 remote on
 * s3rver (started here on 127.0.0.1 with a temp directory, stopped at the end). Push from one checkout, `git clone`
 * it, pull: status is fresh and run executes nothing; `run --pull` does the same in one step; a damaged remote
 * object is detected on download, reported in one line and not used; a push killed mid-way (WSFLOW_CRASH_AT)
 * leaves every object on the remote whole, and the next push completes it; two concurrent pushers do not corrupt
 * each other; a bad wsflow.config.yaml is a file:line:col error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Rig } from '../../helpers/rig.js';
import { removeTree } from '../../../src/engine/cas/cache-store.js';

const PIPELINE = `
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data }
  train:
    uses: ./kinds/write.js
    needs: { in: data }
    with: { text: train }
  eval:
    uses: ./kinds/write.js
    needs: { in: train }
    with: { text: eval }
  notes:
    cmd: cp notes.md out/notes.txt
    deps: [notes.md]
    outs: [out/notes.txt]
`;
const ALL = ['data', 'train', 'eval', 'notes'];

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

const BUCKET = 'wsflow-test';
let s3: S3rverInstance;
let s3Dir: string;
let s3Endpoint: string;
const s3Env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

before(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'wsflow-s3rver-'));
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3.run();
  s3Endpoint = `http://127.0.0.1:${port}`;
});

after(async () => {
  await s3.close();
  removeTree(s3Dir);
});

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: dir, stdio: 'pipe' });
}

/** A project in its own git repository, with a remote declared in wsflow.config.yaml. */
function origin(config: string, notes = 'n\n'): Rig {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': notes, 'wsflow.config.yaml': config, '.gitignore': 'cache/\nout/\n.wsflow/\n.invocations.log\n' } });
  git(rig.dir, 'init', '-q');
  return rig;
}

/** Commits the lock and clones the repository: a collaborator's fresh checkout (no cache/, out/ or .wsflow/). */
function cloneOf(rig: Rig): Rig {
  git(rig.dir, 'add', '-A');
  git(rig.dir, 'commit', '-qm', 'results');
  const clone = new Rig();
  removeTree(clone.dir);
  execFileSync('git', ['clone', '-q', rig.dir, clone.dir], { stdio: 'pipe' });
  assert.ok(clone.exists('wsflow.lock') && !clone.exists('cache') && !clone.exists('out'));
  return clone;
}

function dirConfig(remoteDir: string): string {
  return `default_remote: team\nremotes:\n  team:\n    url: ${remoteDir}\n`;
}

function s3Config(prefix: string): string {
  return `remotes:\n  bucket:\n    url: s3://${BUCKET}/${prefix}\n    endpoint: ${s3Endpoint}\n    force_path_style: true\n`;
}

function statesOf(stdout: string): Record<string, string> {
  const data = JSON.parse(stdout) as { stages: { id: string; state: string }[] };
  return Object.fromEntries(data.stages.map((s) => [s.id, s.state]));
}

function executedIn(jsonLines: string): string[] {
  return jsonLines
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; stageId?: string })
    .filter((e) => e.type === 'stage-start')
    .map((e) => e.stageId ?? '');
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const abs = join(d, name);
      if (statSync(abs).isDirectory()) visit(abs);
      else out.push(relative(dir, abs));
    }
  };
  if (existsSync(dir)) visit(dir);
  return out;
}

/** The objects under `dir` (objects/ab/cdef…, or s3rver's …/ab/cdef…._S3rver_object) and whether their bytes hash to their name. */
function objectsUnder(dir: string): { rel: string; intact: boolean }[] {
  return filesUnder(dir)
    .filter((rel) => hashOfName(rel) !== null)
    .map((rel) => ({ rel, intact: hashOfName(rel) === createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex') }));
}

function hashOfName(rel: string): string | null {
  const m = /(?:^|[/\\])([0-9a-f]{2})[/\\]([0-9a-f]{62})(?:\._S3rver_object)?$/.exec(rel);
  return m ? `${m[1]}${m[2]}` : null;
}

async function ok(rig: Rig, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await rig.exec(args, env);
  assert.equal(r.code, 0, `wsflow ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

void test('directory remote: push, git clone, pull: status is fresh, run executes nothing, out/ is the same', async () => {
  const remoteDir = mkdtempSync(join(tmpdir(), 'wsflow-remote-'));
  const a = origin(dirConfig(remoteDir));
  let b: Rig | undefined;
  try {
    await ok(a, ['run']);
    assert.match(await ok(a, ['push']), /pushed 4 stages to directory .*: \d+ objects .* sent, 0 already there/);
    assert.match(await ok(a, ['push']), /pushed 4 stages .*: 0 objects \(0 B\) sent/, 'a second push sends nothing');
    b = cloneOf(a);
    const before = await b.exec(['status', '--json']);
    assert.deepEqual(statesOf(before.stdout), Object.fromEntries(ALL.map((id) => [id, 'fresh-by-lock'])));
    assert.match(await ok(b, ['pull']), /pulled 4 stages from directory .*; 4 checked out into the project/);
    assert.deepEqual(statesOf(await ok(b, ['status', '--json'])), Object.fromEntries(ALL.map((id) => [id, 'fresh'])));
    assert.deepEqual(executedIn(await ok(b, ['run', '--json'])), []);
    assert.deepEqual(b.invocations(), [], 'a stage ran in the clone');
    assert.deepEqual(b.snapshot('out'), a.snapshot('out'));
    assert.equal(b.read('wsflow.lock'), a.read('wsflow.lock'), 'the no-op run in the clone rewrote the lock');
    // explain knows where the result came from
    assert.match(await ok(b, ['explain', 'eval']), /pull/);
  } finally {
    a.cleanup();
    b?.cleanup();
    removeTree(remoteDir);
  }
});

void test('S3 remote (s3rver): push, git clone, run --pull restores everything and executes nothing', async () => {
  const a = origin(s3Config('proj-a'));
  let b: Rig | undefined;
  try {
    await ok(a, ['run']);
    assert.match(await ok(a, ['push'], s3Env), /pushed 4 stages to s3:\/\/wsflow-test\/proj-a at http:\/\/127\.0\.0\.1:\d+: \d+ objects/);
    assert.match(await ok(a, ['push'], s3Env), /0 objects \(0 B\) sent/);
    b = cloneOf(a);
    const r = await b.exec(['run', '--pull', '--json'], s3Env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(executedIn(r.stdout), []);
    assert.match(r.stderr, /pulled 4 stages from s3:/);
    assert.deepEqual(b.invocations(), []);
    assert.deepEqual(b.snapshot('out'), a.snapshot('out'));
    assert.ok(objectsUnder(join(s3Dir, BUCKET, 'proj-a')).every((o) => o.intact));
  } finally {
    a.cleanup();
    b?.cleanup();
  }
});

void test('S3 remote that cannot be reached: one line, exit 1', async () => {
  const a = origin(s3Config('proj-down').replace(s3Endpoint, 'http://127.0.0.1:1'));
  try {
    await ok(a, ['run']);
    const r = await a.exec(['push'], s3Env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: s3:\/\/wsflow-test\/proj-down at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/);
  } finally {
    a.cleanup();
  }
});

/** Overwrites a read-only remote object with other bytes of the same size. */
function damage(path: string): void {
  chmodSync(path, 0o644);
  const bytes = readFileSync(path);
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
}

for (const kind of ['dir', 's3'] as const) {
  void test(`${kind} remote: a damaged object is detected on pull, reported in one line and not used`, async () => {
    const remoteDir = mkdtempSync(join(tmpdir(), 'wsflow-remote-'));
    const prefix = 'proj-damaged';
    const a = origin(kind === 'dir' ? dirConfig(remoteDir) : s3Config(prefix));
    let b: Rig | undefined;
    try {
      await ok(a, ['run']);
      await ok(a, ['push'], s3Env);
      // train's result.txt: the object named by train's output manifest
      const lock = JSON.parse(a.read('wsflow.lock')) as { stages: Record<string, { output: { hash: string } }> };
      const manifest = JSON.parse(a.read(`cache/objects/${lock.stages['train']?.output.hash.slice(0, 2)}/${lock.stages['train']?.output.hash.slice(2)}`)) as {
        files: [string, string][];
      };
      const fileHash = manifest.files[0]?.[1] ?? '';
      const where = kind === 'dir' ? remoteDir : join(s3Dir, BUCKET, prefix);
      const target = objectsUnder(where).find((o) => o.rel.replace(/[/\\]/g, '').includes(fileHash.slice(2)));
      assert.ok(target, 'the object is on the remote');
      damage(join(where, target.rel));

      b = cloneOf(a);
      const r = await b.exec(['pull'], s3Env);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const errors = r.stderr.trim().split('\n');
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0] ?? '', new RegExp(`^error: stage train: remote object ${fileHash.slice(0, 12)} \\(result\\.txt\\) on .* does not match its content hash: not used$`));
      assert.ok(!existsSync(b.path(`cache/objects/${fileHash.slice(0, 2)}/${fileHash.slice(2)}`)), 'the damaged bytes reached the cache');
      assert.ok(objectsUnder(b.path('cache/objects')).every((o) => o.intact), 'a local object does not match its name');
      const st = statesOf((await b.exec(['status', '--json'])).stdout);
      assert.deepEqual([st['data'], st['train'], st['eval'], st['notes']], ['fresh', 'fresh-by-lock', 'fresh', 'fresh']);
      // the stage the remote could not supply runs; nothing else does, and its result is the original's
      await ok(b, ['run']);
      assert.deepEqual(b.invocations(), ['train']);
      assert.deepEqual(b.snapshot('out'), a.snapshot('out'));
    } finally {
      a.cleanup();
      b?.cleanup();
      removeTree(remoteDir);
    }
  });
}

for (const kind of ['dir', 's3'] as const) {
  void test(`${kind} remote: a push killed mid-way leaves the remote consistent; the next push completes it`, async () => {
    const remoteDir = mkdtempSync(join(tmpdir(), 'wsflow-remote-'));
    const prefix = 'proj-killed';
    const a = origin(kind === 'dir' ? dirConfig(remoteDir) : s3Config(prefix));
    let b: Rig | undefined;
    try {
      await ok(a, ['run']);
      // dir: killed with an object complete under its temporary name; s3: after the third object is in place
      const crash = kind === 'dir' ? 'remote-object-staged:3' : 'remote-object-pushed:3';
      const killed = await a.exec(['push'], { ...s3Env, WSFLOW_CRASH_AT: crash });
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr);
      const where = kind === 'dir' ? remoteDir : join(s3Dir, BUCKET, prefix);
      const objects = objectsUnder(where);
      assert.ok(objects.length > 0 && objects.every((o) => o.intact), 'an object on the remote does not match its name');
      if (kind === 'dir') assert.ok(filesUnder(where).some((rel) => /\.tmp-\d+-[0-9a-f]+$/.test(rel)), 'the crash point was not reached mid-copy');

      b = cloneOf(a);
      const partial = await b.exec(['pull'], s3Env);
      assert.equal(partial.code, 1, 'a pull from the half-pushed remote reports what is missing');
      assert.match(partial.stderr, /is not on /);
      assert.ok(objectsUnder(b.path('cache/objects')).every((o) => o.intact));

      await ok(a, ['push'], s3Env);
      await ok(b, ['pull'], s3Env);
      await ok(b, ['run']);
      assert.deepEqual(b.invocations(), [], 'a stage ran after the completed pull');
      assert.deepEqual(b.snapshot('out'), a.snapshot('out'));
      assert.equal((await b.exec(['status'])).code, 0);
    } finally {
      a.cleanup();
      b?.cleanup();
      removeTree(remoteDir);
    }
  });
}

for (const kind of ['dir', 's3'] as const) {
  void test(`${kind} remote: two processes pushing at once do not corrupt each other`, async () => {
    const remoteDir = mkdtempSync(join(tmpdir(), 'wsflow-remote-'));
    const config = kind === 'dir' ? dirConfig(remoteDir) : s3Config('proj-concurrent');
    const where = kind === 'dir' ? remoteDir : join(s3Dir, BUCKET, 'proj-concurrent');
    // same data/train/eval results, different notes: most objects are pushed by both at the same time
    const a = origin(config, 'notes of a\n');
    const c = origin(config, 'notes of c\n');
    const clones: Rig[] = [];
    try {
      await ok(a, ['run']);
      await ok(c, ['run']);
      const [ra, rc] = await Promise.all([a.exec(['push'], s3Env), c.exec(['push'], s3Env)]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rc.code, 0, rc.stderr);
      assert.ok(objectsUnder(where).every((o) => o.intact));
      if (kind === 'dir') assert.deepEqual(filesUnder(remoteDir).filter((rel) => hashOfName(rel) === null), [], 'a temporary file was left behind');
      for (const from of [a, c]) {
        const clone = cloneOf(from);
        clones.push(clone);
        await ok(clone, ['pull'], s3Env);
        await ok(clone, ['run']);
        assert.deepEqual(clone.invocations(), []);
        assert.deepEqual(clone.snapshot('out'), from.snapshot('out'));
      }
    } finally {
      for (const r of [a, c, ...clones]) r.cleanup();
      removeTree(remoteDir);
    }
  });
}

void test('pull without a wsflow.lock says there is nothing to pull, exit 0, and writes nothing', async () => {
  const remoteDir = mkdtempSync(join(tmpdir(), 'wsflow-remote-'));
  const rig = origin(dirConfig(remoteDir));
  try {
    const r = await rig.exec(['pull']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no wsflow.lock next to pipeline.yaml: nothing says what to pull (a successful run writes it; commit it)\n');
    assert.ok(!rig.exists('cache') && !rig.exists('out'));
  } finally {
    rig.cleanup();
    removeTree(remoteDir);
  }
});

void test('a bad wsflow.config.yaml is a file:line:col error and exit 2; an unknown -r is one line', async () => {
  const rig = origin('remotes:\n  team:\n    urll: /tmp/x\n');
  try {
    await ok(rig, ['run']);
    const r = await rig.exec(['push']);
    assert.equal(r.code, 2);
    assert.match(r.stderr.split('\n')[0] ?? '', /^wsflow\.config\.yaml:3:5: error: unknown key of remote team "urll" \(did you mean "url"\?\)/);
    rig.write('wsflow.config.yaml', 'remotes:\n  team: { url: "ftp://host/x" }\n');
    assert.match((await rig.exec(['pull'])).stderr, /^wsflow\.config\.yaml:2:16: error: remote team: unsupported url scheme/);
    rig.write('wsflow.config.yaml', 'default_remote: tem\nremotes:\n  team: { url: ../r }\n');
    assert.match((await rig.exec(['pull'])).stderr, /^wsflow\.config\.yaml:1:17: error: default_remote: no remote named "tem" \(did you mean "team"\?\)/);
    rig.write('wsflow.config.yaml', 'remotes:\n  team: { url: ../r }\n');
    const unknown = await rig.exec(['push', '-r', 'teem']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'error: no remote named "teem" in wsflow.config.yaml (did you mean "team"?)\n');
    assert.ok(!existsSync(join(rig.dir, '..', 'r')), 'a failed command wrote to the remote');
  } finally {
    rig.cleanup();
  }
});
