/**
 * `dag --collapse` (one node per stage name, like snakemake --rulegraph) and the reason a never-run cell gives
 * when other cells of its stage ran: the matrix values none of them had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../helpers/rig.js';

const pipeline = (adapters: string, seeds: string): string => `
matrix:
  adapter: ${adapters}
  seed: ${seeds}
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data }
  train:
    uses: ./kinds/write.js
    foreach: [adapter, seed]
    needs: { in: data }
    with: { text: "t \${matrix.adapter} \${matrix.seed}" }
  eval:
    uses: ./kinds/write.js
    foreach: [adapter, seed]
    needs: { in: "train@\${matrix.adapter}-\${matrix.seed}" }
    with: { text: e }
`;

void test('dag --collapse draws one node per stage name, in every format', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline('[lora, dora]', '[0, 1]') } });
  try {
    const text = await rig.exec(['dag', '--collapse']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      [
        'data   1 stage  uses ./kinds/write.js',
        'train  4 cells (adapter × seed)  uses ./kinds/write.js',
        '    in ← data',
        'eval   4 cells (adapter × seed)  uses ./kinds/write.js',
        '    in ← train',
        '',
        '3 stage names, 9 stages',
        '',
      ].join('\n'),
    );
    const dot = (await rig.exec(['dag', '--collapse', '--format', 'dot', 'eval@lora-0'])).stdout;
    assert.match(dot, /^ {2}"train" \[label="train ×1"\];$/m);
    assert.match(dot, /^ {2}"data" -> "train" \[label="in"\];$/m);
    assert.match(dot, /^ {2}"train" -> "eval" \[label="in"\];$/m);
    assert.equal(dot.match(/->/g)?.length, 2, 'one edge per pair of names');
    const mermaid = (await rig.exec(['dag', '--collapse', '--format', 'mermaid'])).stdout;
    assert.match(mermaid, /^ {2}n1\["train ×4"\]$/m);
    assert.match(mermaid, /^ {2}n1 -->\|in\| n2$/m);
  } finally {
    rig.cleanup();
  }
});

void test('a never-run cell names the matrix values no cell of its stage ran with', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline('[lora]', '[0]') } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    rig.write('pipeline.yaml', pipeline('[lora, dora]', '[0, 1]'));
    const status = await rig.exec(['status']);
    assert.match(status.stdout, /^train@lora-1\s+never-run\s+← never run: new matrix value seed=1$/m);
    assert.match(status.stdout, /^train@dora-0\s+never-run\s+← never run: new matrix value adapter=dora$/m);
    assert.match(status.stdout, /^eval@dora-1\s+never-run\s+← never run: new matrix values adapter=dora, seed=1$/m);
    const dry = await rig.exec(['run', '-n', 'train']);
    assert.match(dry.stdout, /▶ train@lora-1 {2}would run\n {4}← never run: new matrix value seed=1/);
    // each value ran in some cell: a new combination
    assert.equal((await rig.exec(['run', 'train@dora-0', 'train@lora-1'])).code, 0);
    assert.match((await rig.exec(['status', 'train@dora-1'])).stdout, /^train@dora-1\s+never-run\s+← never run: a new combination of matrix values/m);

    // a stage none of whose cells ran says only that
    const fresh = new Rig({ files: { 'pipeline.yaml': pipeline('[lora]', '[0]') } });
    try {
      assert.match((await fresh.exec(['run', '-n'])).stdout, /▶ train@lora-0 {2}would run.*\n {4}← never run\n/);
    } finally {
      fresh.cleanup();
    }
  } finally {
    rig.cleanup();
  }
});
