/**
 * wsflow.lock (issue 14): written after each successful run, byte-identical across two projects that computed the
 * same results in separate cache directories, free of times, hosts and absolute paths; and `status` in a fresh
 * checkout that has the lock but no cache/ says which stages are fresh by the lock and which are stale, and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { Rig } from '../../helpers/rig.js';

const PIPELINE = `
params:
  prompt: { anchor: "My choice: **" }
matrix:
  adapter: [lora, dora]
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data }
  train:
    uses: ./kinds/write.js
    foreach: adapter
    needs: { in: data }
    with: { text: "train \${matrix.adapter}" }
  eval:
    uses: ./kinds/write.js
    foreach: adapter
    needs: { in: train }
    with: { text: "\${params.prompt.anchor}" }
  report:
    uses: ./kinds/write.js
    needs: { in: "eval@*" }
    with: { text: report }
  notes:
    cmd: cp notes.md out/notes.txt
    deps: [notes.md]
    outs: [out/notes.txt]
`;

const ALL = ['data', 'train@lora', 'train@dora', 'eval@lora', 'eval@dora', 'report', 'notes'];

interface StatusJson {
  stages: { id: string; state: string; reasons: { type: string; text: string }[] }[];
}

function states(stdout: string): Record<string, string> {
  const data = JSON.parse(stdout) as StatusJson;
  return Object.fromEntries(data.stages.map((s) => [s.id, s.state]));
}

void test('two projects that computed the same results write byte-identical lock files, with no time, host or path in them', async () => {
  const a = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  const b = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  try {
    for (const rig of [a, b]) {
      const r = await rig.exec(['run', '-j', '2']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const lock = a.read('wsflow.lock');
    assert.equal(b.read('wsflow.lock'), lock, 'lock files differ');
    assert.ok(!lock.includes(a.dir) && !lock.includes(hostname()), 'the lock names a path or the host');
    assert.doesNotMatch(lock, /"(started|ended|run|runId|host|time)[A-Za-z_]*":/);
    const parsed = JSON.parse(lock) as { format: string; stages: Record<string, { key: string; output: { hash: string } }> };
    assert.equal(parsed.format, 'wsflow-lock-1');
    assert.deepEqual(Object.keys(parsed.stages), [...ALL].sort(), 'one entry per stage, sorted');
    // its key and output hash are those the state database recorded
    const row = a.withDb((db) => db.prepare(`SELECT key, output_hash FROM executions WHERE stage_id = 'report'`).get()) as { key: string; output_hash: string };
    assert.equal(parsed.stages['report']?.key, row.key);
    assert.equal(parsed.stages['report']?.output.hash, row.output_hash);
    // a no-op run leaves the file as it is; a run with a changed param rewrites exactly the affected entries
    const before = a.read('wsflow.lock');
    assert.equal((await a.exec(['run'])).code, 0);
    assert.equal(a.read('wsflow.lock'), before);
    a.write('pipeline.yaml', PIPELINE.replace('My choice: **', 'Choice:'));
    assert.equal((await a.exec(['run'])).code, 0);
    const after = JSON.parse(a.read('wsflow.lock')) as typeof parsed;
    for (const id of ALL) {
      const changed = after.stages[id]?.key !== parsed.stages[id]?.key;
      assert.equal(changed, ['eval@lora', 'eval@dora', 'report'].includes(id), `${id} entry changed: ${changed}`);
    }
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

void test('status in a checkout with the lock but no cache: fresh by the lock, or stale with the usual reasons', async () => {
  const a = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  const clone = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  try {
    assert.equal((await a.exec(['run'])).code, 0);
    clone.write('wsflow.lock', a.read('wsflow.lock'));
    const st = await clone.exec(['status', '--json']);
    assert.equal(st.code, 1, 'nothing is fresh in this checkout itself');
    assert.deepEqual(states(st.stdout), Object.fromEntries(ALL.map((id) => [id, 'fresh-by-lock'])));
    const text = await clone.exec(['status']);
    assert.match(text.stdout, /report\s+fresh-by-lock\s+← recorded in wsflow\.lock: restorable from a remote \(wsflow pull\)/);
    assert.match(text.stdout, /7 fresh by wsflow\.lock/);
    assert.ok(!clone.exists('cache'), 'status created cache/');

    clone.write('pipeline.yaml', PIPELINE.replace('My choice: **', 'Choice:'));
    clone.write('notes.md', 'changed\n');
    const changed = await clone.exec(['status', '--json']);
    const s = states(changed.stdout);
    assert.deepEqual(
      [s['data'], s['train@lora'], s['eval@lora'], s['report'], s['notes']],
      ['fresh-by-lock', 'fresh-by-lock', 'stale', 'stale', 'stale'],
    );
    const byId = new Map((JSON.parse(changed.stdout) as StatusJson).stages.map((x) => [x.id, x.reasons.map((r) => r.text)]));
    assert.deepEqual(byId.get('eval@lora'), ['param prompt.anchor "My choice: **" → "Choice:"']);
    assert.ok(byId.get('report')?.some((t) => t.includes('eval@lora')), String(byId.get('report')));
    assert.ok(byId.get('notes')?.some((t) => t.includes('notes.md')), String(byId.get('notes')));
  } finally {
    a.cleanup();
    clone.cleanup();
  }
});

void test('a no-op run writes back a deleted or hand-edited lock, byte for byte, and an entry a run on another target left out', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const lock = rig.read('wsflow.lock');
    rmSync(rig.path('wsflow.lock'));
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal(rig.read('wsflow.lock'), lock, 'a deleted lock comes back from a no-op run');
    rig.write('wsflow.lock', JSON.stringify(JSON.parse(lock)));
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal(rig.read('wsflow.lock'), lock, 'a lock in another layout is written back sorted and indented');
    const parsed = JSON.parse(lock) as { stages: Record<string, unknown> };
    delete parsed.stages['report'];
    rig.write('wsflow.lock', JSON.stringify(parsed));
    // a run of another target: the report, fresh in out/ but outside the selection, gets its entry back
    assert.equal((await rig.exec(['run', 'notes'])).code, 0);
    assert.equal(rig.read('wsflow.lock'), lock, 'the entry of a fresh stage outside the selection');
  } finally {
    rig.cleanup();
  }
});

void test('a damaged lock file is one line naming it, exit 2', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n', 'wsflow.lock': '{"format": "wsflow-lock-1", "stages": {"data": {"key": "x"}}}\n' } });
  try {
    const r = await rig.exec(['status']);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^error: \S*wsflow\.lock: stages\.data: key is not a sha256; restore it from git or delete it$/);
  } finally {
    rig.cleanup();
  }
});

void test('a lock already verified by a run is still checked once its bytes change: status on fresh stages reports a damaged one', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'notes.md': 'n\n' } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    // a second, no-op run records the lock's bytes as verified; status then need not read it while all is fresh
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal((await rig.exec(['status'])).code, 0);
    const lock = JSON.parse(rig.read('wsflow.lock')) as { stages: Record<string, { key: string }> };
    (lock.stages['data'] as { key: string }).key = 'x';
    rig.write('wsflow.lock', `${JSON.stringify(lock, null, 2)}\n`);
    const r = await rig.exec(['status']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr.trim(), /^error: \S*wsflow\.lock: stages\.data: key is not a sha256; restore it from git or delete it$/);
  } finally {
    rig.cleanup();
  }
});

void test('a no-op run on a verified lock still rewrites an entry whose display-only ingredients changed (a param now from another global)', async () => {
  const pipeline = (from: string) => `
params:
  first: same
  second: same
stages:
  data:
    uses: ./kinds/write.js
    with: { text: "\${params.${from}}" }
`;
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline('first') } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal((await rig.exec(['run'])).code, 0);
    const before = JSON.parse(rig.read('wsflow.lock')) as { stages: { data: { key: string; paramSources: Record<string, string> } } };
    assert.deepEqual(before.stages.data.paramSources, { text: 'first' });
    rig.write('pipeline.yaml', pipeline('second'));
    const r = await rig.exec(['run']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 fresh/, 'the key did not change: nothing ran');
    const after = JSON.parse(rig.read('wsflow.lock')) as typeof before;
    assert.equal(after.stages.data.key, before.stages.data.key);
    assert.deepEqual(after.stages.data.paramSources, { text: 'second' });
  } finally {
    rig.cleanup();
  }
});
