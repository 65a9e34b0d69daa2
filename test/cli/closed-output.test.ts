/**
 * `wsflow run -n | head -1`: the reader of stdout goes away after its first line. The command ends quietly with
 * status 0, as git does, instead of printing an EPIPE stack trace. Each command's output here is over 250 KiB:
 * more than the reader's first chunk (at most 64 KiB) and a full pipe buffer (64 KiB) together, so the command is
 * still writing when the reader closes and the failed write is certain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, type ExecResult } from '../helpers/rig.js';

const CELLS = 3000;
/** long cell names make long lines: fewer stages to plan for the same amount of output */
const cell = (i: number): string => `adapter_${'x'.repeat(80)}_${i}`;
const PIPELINE = `
matrix:
  adapter: [${Array.from({ length: CELLS }, (_, i) => cell(i)).join(', ')}]
stages:
  train:
    uses: ./kinds/write.js
    foreach: adapter
    with: { text: "train \${matrix.adapter}" }
  curve:
    uses: ./kinds/write.js
    with: { text: curve, steps: 3000 }
`;

/** `wsflow ARGS | head -1`: the first line, then the reader destroyed; what the command printed and exited with. */
async function firstLineOnly(rig: Rig, args: readonly string[]): Promise<ExecResult & { first: string }> {
  const child = rig.spawn(args);
  const first = await new Promise<string>((resolve, reject) => {
    // a command that ends without a line would leave the test waiting on nothing
    child.on('close', (code) => reject(new Error(`wsflow ${args.join(' ')} exited ${code} before a line: ${child.output()}`)));
    let seen = '';
    const onData = (t: string): void => {
      seen += t;
      if (!seen.includes('\n')) return;
      child.stdout?.off('data', onData);
      child.stdout?.destroy();
      resolve(seen.split('\n')[0] ?? '');
    };
    child.stdout?.on('data', onData);
  });
  return { ...(await child.result), first };
}

void test('a reader that closes stdout after one line ends the command quietly with status 0', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    // the metrics to print: one stage with a 3000-point curve
    assert.equal((await rig.exec(['run', 'curve'])).code, 0);
    const cases: { args: string[]; first: RegExp }[] = [
      { args: ['run', '-n'], first: new RegExp(`^▶ train@${cell(0)}\\s+would run`) },
      { args: ['status'], first: new RegExp(`^train@${cell(0)}\\s+never-run`) },
      { args: ['dag'], first: new RegExp(`^train@${cell(0)}\\s`) },
      { args: ['metrics', 'curve', '--json'], first: /^\{$/ },
    ];
    for (const c of cases) {
      const r = await firstLineOnly(rig, c.args);
      const what = `wsflow ${c.args.join(' ')} | head -1`;
      assert.match(r.first, c.first, what);
      assert.equal(r.stderr, '', `${what}: nothing on stderr`);
      assert.equal(r.signal, null, what);
      assert.equal(r.code, 0, what);
    }
  } finally {
    rig.cleanup();
  }
});

void test('a run executing stages is not cut off by a closed reader: it finishes every stage and exits with its status', async () => {
  // about 190 KiB of -v output over the run: the reader is gone long before the end (names stay under NAME_MAX:
  // each is a directory under out/)
  const cells = Array.from({ length: 200 }, (_, i) => `a${'y'.repeat(200)}_${i}`);
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
matrix:
  adapter: [${cells.join(', ')}]
stages:
  train:
    uses: ./kinds/write.js
    foreach: adapter
    with: { text: "train \${matrix.adapter}" }
`,
    },
  });
  try {
    const r = await firstLineOnly(rig, ['run', '-v', '-j', '2']);
    assert.match(r.first, /^run #1: 200 stages/);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(rig.invocations().length, 200, 'every stage ran to its end');
    const status = await rig.exec(['status']);
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /Everything up to date \(200 stages\)/);
  } finally {
    rig.cleanup();
  }
});
