/**
 * Nothing outside the project is touched (issue 12): an out whose parent is a symlink leading out of the project is
 * a planning error at the out, also when the link appears between planning and execution; outs cannot land on
 * wsflow's own files; `gc` removes only what it created and never follows a link. Each "victim" is a temp
 * directory this test owns, and the test checks it byte for byte afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rig } from '../../helpers/rig.js';

function makeVictim(): { dir: string; check(): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-victim-'));
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', 'keep.txt'), 'precious\n');
  writeFileSync(join(dir, 'top.txt'), 'also precious\n');
  return {
    dir,
    check() {
      assert.deepEqual(readdirSync(dir).sort(), ['d', 'top.txt'], 'nothing added to or removed from the victim directory');
      assert.deepEqual(readdirSync(join(dir, 'd')), ['keep.txt']);
      assert.equal(readFileSync(join(dir, 'd', 'keep.txt'), 'utf8'), 'precious\n');
      assert.equal(readFileSync(join(dir, 'top.txt'), 'utf8'), 'also precious\n');
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

void test('issue 12 HIGH: an out under a symlinked parent that leads out of the project is a planning error at the out', async () => {
  const victim = makeVictim();
  const rig = new Rig({ files: { 'pipeline.yaml': 'stages:\n  s:\n    cmd: mkdir -p link/d && touch link/d/x\n    outs: [link/d]\n' } });
  try {
    symlinkSync(victim.dir, rig.path('link'));
    for (const args of [['run'], ['status'], ['run', '-n']]) {
      const r = await rig.exec(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        /^pipeline\.yaml:4:12: error: outs entry "link\/d" resolves through the symbolic link "link" to .*wsflow-victim-[^/]+\/d, outside the project directory/m,
      );
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    }
    victim.check();
    assert.equal(rig.exists('cache'), false, 'a planning error writes nothing');
  } finally {
    rig.cleanup();
    victim.cleanup();
  }
});

void test('a symlink that appears after planning is caught when the out is cleared: the stage fails, the victim is intact', async () => {
  const victim = makeVictim();
  const rig = new Rig({
    files: {
      'pipeline.yaml': `stages:
  a:
    cmd: ln -s ${JSON.stringify(victim.dir)} link && echo a > a.txt
    outs: [a.txt]
  b:
    cmd: mkdir -p link/d && rm -f link/d/keep.txt && touch link/d/x
    deps: [a.txt]
    outs: [link/d]
`,
    },
  });
  try {
    const r = await rig.exec(['run']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /out "link\/d" now resolves to .*wsflow-victim-[^/]+\/d, outside the project directory/);
    assert.doesNotMatch(r.stdout + r.stderr, /internal error|\n\s+at /);
    victim.check();
    const b = rig.withDb((db) => db.prepare(`SELECT status FROM executions WHERE stage_id = 'b'`).all() as { status: string }[]);
    assert.deepEqual(
      b.map((x) => x.status),
      ['failed'],
    );
    // the next run stops at planning, at the out
    const again = await rig.exec(['run']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^pipeline\.yaml:8:12: error: outs entry "link\/d" resolves through the symbolic link "link"/m);
    victim.check();
  } finally {
    rig.cleanup();
    victim.cleanup();
  }
});

void test("outs may not land on wsflow's own files: cache/, .wsflow/, pipeline.yaml, a kind module", async () => {
  const cases: [string, RegExp][] = [
    ['cache/x', /outs entry "cache\/x" lies inside wsflow's cache directory cache\//],
    ['.wsflow', /outs entry "\.wsflow" would replace wsflow's directory \.wsflow\//],
    ['pipeline.yaml', /outs entry "pipeline\.yaml" would replace wsflow's pipeline file pipeline\.yaml/],
    ['kinds', /outs entry "kinds" would replace wsflow's kind module kinds\/write\.js \(it lies inside this out\)/],
  ];
  for (const [out, message] of cases) {
    const rig = new Rig({
      files: {
        'pipeline.yaml': `stages:\n  k:\n    uses: ./kinds/write.js\n    with: { text: k }\n  s:\n    cmd: echo\n    outs: [${out}]\n`,
      },
    });
    try {
      const r = await rig.exec(['run']);
      assert.equal(r.code, 2, `${out}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^pipeline\\.yaml:7:12: error: ${message.source}`, 'm'), out);
      assert.equal(rig.exists('cache/state.db'), false);
    } finally {
      rig.cleanup();
    }
  }
});

void test('an out that is itself a symlink to outside the project is refused; a link that stays inside is fine', async () => {
  const victim = makeVictim();
  const rig = new Rig({ files: { 'pipeline.yaml': 'stages:\n  s:\n    cmd: mkdir -p res && echo hi > res/x\n    outs: [res]\n' } });
  try {
    symlinkSync(join(victim.dir, 'd'), rig.path('res'));
    const r = await rig.exec(['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /outs entry "res" resolves through the symbolic link "res" to .*, outside the project directory/);
    victim.check();
    rmSync(rig.path('res'));
    mkdirSync(rig.path('real'));
    symlinkSync('real', rig.path('res'));
    const inside = await rig.exec(['run']);
    assert.equal(inside.code, 0, inside.stdout + inside.stderr);
    assert.equal(rig.read('res/x'), 'hi\n');
  } finally {
    rig.cleanup();
    victim.cleanup();
  }
});

void test('issue 12 MEDIUM: gc never follows a link placed in cache/objects or cache/trees, and leaves it alone', async () => {
  const victim = makeVictim();
  const rig = new Rig({ files: { 'pipeline.yaml': 'params: { v: 1 }\nstages:\n  s:\n    cmd: echo ${params.v} > s.txt\n    outs: [s.txt]\n' } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal((await rig.exec(['run', '-S', 'v=2'])).code, 0);
    mkdirSync(rig.path('cache/trees'), { recursive: true });
    symlinkSync(victim.dir, rig.path('cache/objects/zz'));
    symlinkSync(join(victim.dir, 'd'), rig.path(`cache/trees/${'e'.repeat(64)}`));
    mkdirSync(rig.path('cache/objects/ee'), { recursive: true });
    symlinkSync(join(victim.dir, 'top.txt'), rig.path(`cache/objects/ee/${'f'.repeat(62)}`));
    const gc = await rig.exec(['gc', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    const report = JSON.parse(gc.stdout) as { removedObjects: number; foreign: string[] };
    assert.ok(report.removedObjects >= 1, 'the unreferenced objects of v=1 went');
    assert.deepEqual([...report.foreign].sort(), [`objects/ee/${'f'.repeat(62)}`, 'objects/zz', `trees/${'e'.repeat(64)}`]);
    victim.check();
    const text = await rig.exec(['gc']);
    assert.match(text.stdout, /Left alone 3 entries wsflow did not create/);
    victim.check();
  } finally {
    rig.cleanup();
    victim.cleanup();
  }
});
