import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeProject, repoRoot } from './helpers.js';

const execFileAsync = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function wsflow(cwd: string, ...args: string[]): Promise<Outcome> {
  return execFileAsync(process.execPath, [path.join(repoRoot, 'bin', 'wsflow.js'), ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: Outcome) => err,
  );
}

const yaml = `params:
  anchor: hi
  spare: 1
  out_root: out
matrix:
  adapter: [lora, dora]
stages:
  data:
    uses: ./kinds/writer.js
    with: { message: "\${params.anchor}" }
  train:
    uses: ./kinds/writer.js
    foreach: adapter
    needs: { source: data }
    with: { message: "\${matrix.adapter}" }
  combined:
    uses: ./kinds/combine.js
    needs: { base: data, parts: train@* }
  plot:
    cmd: python plot.py \${params.out_root}/combined
    deps: ["\${params.out_root}/combined/combined.json", plot.py]
    outs: [plot.png]
profiles:
  smoke:
    params: { out_root: out/smoke }
    matrix: { adapter: [lora] }
`;

void test('wsflow dag prints the expanded graph as text, mermaid and dot', async () => {
  const project = await makeProject(yaml);
  try {
    const text = await wsflow(project.dir, 'dag');
    assert.equal(text.code, 0);
    assert.equal(
      text.stdout,
      `data        uses ./kinds/writer.js  → out/data
train@lora  uses ./kinds/writer.js  → out/train/lora
    source ← data
train@dora  uses ./kinds/writer.js  → out/train/dora
    source ← data
combined    uses ./kinds/combine.js  → out/combined
    base ← data
    parts ← train@lora, train@dora
plot        cmd: python plot.py out/combined
    combined ← combined
    deps: plot.py
    outs: plot.png

5 stages
`,
    );
    assert.equal(
      text.stderr,
      'pipeline.yaml:3:3: warning: param "spare" is not used by any stage\n  3 |   spare: 1\n    |   ^~~~~\n',
    );

    const mermaid = await wsflow(project.dir, 'dag', '--format', 'mermaid', '--profile', 'smoke', 'combined');
    assert.equal(mermaid.code, 0);
    assert.equal(
      mermaid.stdout,
      `flowchart LR
  s0["data"]
  s1["train@lora"]
  s2["combined"]
  s0 -->|source| s1
  s0 -->|base| s2
  s1 -->|parts| s2
`,
    );

    const dot = await wsflow(project.dir, 'dag', '--format=dot', 'train@dora', '-S', 'anchor=yo');
    assert.equal(dot.code, 0);
    assert.equal(
      dot.stdout,
      `digraph wsflow {
  rankdir=LR;
  node [shape=box];
  "data";
  "train@dora";
  "data" -> "train@dora" [label="source"];
}
`,
    );
    // successful loads are cached under .wsflow/, nothing else is written
    assert.deepEqual((await readdir(project.dir)).sort(), ['.wsflow', 'kinds', 'pipeline.yaml']);
  } finally {
    await project.cleanup();
  }
});

void test('wsflow dag: unknown target, unknown format, missing file, -f FILE', async () => {
  const project = await makeProject(yaml, { 'sub/other.yaml': 'stages:\n  only: { cmd: echo hi }\n' });
  try {
    const target = await wsflow(project.dir, 'dag', 'trian');
    assert.equal(target.code, 2);
    assert.match(target.stderr, /error: unknown target "trian" \(did you mean "train"\?\)\n$/);
    assert.equal(target.stdout, '');

    const format = await wsflow(project.dir, 'dag', '--format', 'svg');
    assert.equal(format.code, 2);
    assert.match(format.stderr, /argument 'svg' is invalid\. Allowed choices are text, mermaid, dot\./);

    const missing = await wsflow(path.join(project.dir, 'kinds'), 'dag');
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: cannot read pipeline.yaml: no such file\n');

    const other = await wsflow(project.dir, 'dag', '-f', 'sub/other.yaml');
    assert.equal(other.code, 0);
    assert.equal(other.stdout, 'only  cmd: echo hi\n\n1 stage\n');
  } finally {
    await project.cleanup();
  }
});
