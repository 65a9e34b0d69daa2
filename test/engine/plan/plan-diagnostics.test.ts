/**
 * Planning errors print as load errors do (one printer, src/pipeline/format-diagnostic.ts): the grep-able
 * `file:line:col: error:` line, the source line with a caret under the span, then the count. Golden: the whole
 * stderr of `wsflow status` / `wsflow run` is compared.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rig } from '../../helpers/rig.js';

void test('a planning error shows the source line and a caret, as a load error does', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `stages:
  a:
    uses: ./kinds/write.js
    with: { text: a }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: b, external: data/missing.txt }
  c: { cmd: "cat input.txt > c.txt", deps: [input.txt], outs: [c.txt] }
`,
    },
  });
  try {
    const status = await rig.exec(['status']);
    assert.equal(status.code, 2);
    assert.equal(status.stdout, '');
    assert.equal(
      status.stderr.replace(rig.dir, '<project>'),
      [
        'pipeline.yaml:5:3: error: stage b (with.external): external file <project>/data/missing.txt does not exist',
        '  5 |   b:',
        '    |   ^',
        'pipeline.yaml:9:3: error: stage c: dep input.txt does not exist (no stage declares it in outs)',
        '  9 |   c: { cmd: "cat input.txt > c.txt", deps: [input.txt], outs: [c.txt] }',
        '    |   ^',
        '2 planning errors; nothing was run or written',
        '',
      ].join('\n'),
    );
    // run and explain print the same
    const run = await rig.exec(['run']);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, status.stderr);
    const explain = await rig.exec(['explain', 'b']);
    assert.equal(explain.code, 2);
    assert.equal(explain.stderr.replace(rig.dir, '<project>').split('\n').slice(0, 3).join('\n'), status.stderr.replace(rig.dir, '<project>').split('\n').slice(0, 3).join('\n'));
  } finally {
    rig.cleanup();
  }
});
