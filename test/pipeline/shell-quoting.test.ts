/**
 * `${...}` in `cmd:` is one shell word (issue 12): `-S 'msg=hi; touch FILE #'` must print the text, not run
 * `touch`; `${raw:params.x}` is the explicit way to splice shell syntax. Run for real through `wsflow run`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { shellQuote } from '../../src/pipeline/shell-quote.js';
import { Rig } from '../helpers/rig.js';
import { brief, loadErrors, loadOk, promptKind } from './helpers.js';

function cmdOf(p: Awaited<ReturnType<typeof loadOk>>, id: string): string {
  const source = p.stages.get(id)?.source;
  return source?.type === 'cmd' ? source.cmd : '';
}

void test('shellQuote leaves safe words bare and single-quotes everything else; sh reads back the exact text', () => {
  assert.equal(shellQuote('0.001'), '0.001');
  assert.equal(shellQuote('out/run_1/a.txt'), 'out/run_1/a.txt');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote('My choice: **'), "'My choice: **'");
  assert.equal(shellQuote("it's"), `'it'"'"'s'`);
  const nasty = ['hi; touch x #', '$(id)', '`id`', "a'b\"c\\d", '*', '~', 'two\nlines', ' lead', '-n', 'é ü', '$HOME'];
  for (const text of nasty) {
    const r = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(text)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, text, `round trip of ${JSON.stringify(text)}`);
  }
});

void test('cmd values are quoted for the shell; with:, paths and needs take values as they are', async () => {
  const yaml = `params:
  anchor: "My choice: **"
  lr: 0.001
  files: out/a.txt
matrix:
  adapter: [lora]
stages:
  plots:
    cmd: python plots.py --anchor \${params.anchor} --lr \${params.lr} --tag \${matrix.adapter} > \${params.files}
    foreach: adapter
    outs: ["\${params.files}"]
  eval:
    uses: prompt
    with: { anchor: "\${params.anchor}" }
`;
  const p = await loadOk(yaml, { builtins: new Map([['prompt', promptKind]]) });
  // safe values are unchanged, so commands that only splice numbers and words keep their keys
  assert.equal(cmdOf(p, 'plots@lora'), "python plots.py --anchor 'My choice: **' --lr 0.001 --tag lora > out/a.txt");
  assert.deepEqual(p.stages.get('plots@lora')?.outs, ['out/a.txt']);
  assert.equal(p.stages.get('eval')?.params['anchor'], 'My choice: **');
});

void test('${raw:...} splices the text unquoted, only in cmd:', async () => {
  const p = await loadOk('params:\n  flags: "--lr 0.1 --steps 2"\nstages:\n  s:\n    cmd: python fit.py ${raw:params.flags} ${params.flags}\n');
  assert.equal(cmdOf(p, 's'), "python fit.py --lr 0.1 --steps 2 '--lr 0.1 --steps 2'");
  const whole = await loadOk('params:\n  c: "echo a; echo b"\nstages:\n  s:\n    cmd: ${params.c}\n  t:\n    cmd: ${raw:params.c}\n');
  assert.deepEqual([cmdOf(whole, 's'), cmdOf(whole, 't')], ["'echo a; echo b'", 'echo a; echo b']);

  const errors = await loadErrors('params:\n  x: a\nstages:\n  s:\n    uses: prompt\n    with: { anchor: "${raw:params.x}" }\n', {
    builtins: new Map([['prompt', promptKind]]),
  });
  assert.deepEqual(errors.map(brief), ['6:22 ${raw:params.x}: `raw:` only applies in cmd:, where values are quoted for the shell; here write ${params.x}']);
});

void test('a plain reference written inside quotes in cmd: is an error naming both fixes', async () => {
  const yaml = `params: { m: hi }
stages:
  a:
    cmd: echo "\${params.m}"
  b:
    cmd: echo 'x \${params.m}'
  c:
    cmd: echo "\\"" \${params.m} '"' \${params.m} "\${raw:params.m}"
  d:
    cmd: echo \\\${params.m}
`;
  assert.deepEqual((await loadErrors(yaml)).map(brief), [
    '4:16 ${params.m} stands inside "…" in cmd: wsflow quotes each value for the shell itself, so the quotes would become part of the text; remove them, or write ${raw:params.m} to splice the value unquoted',
    "6:18 ${params.m} stands inside '…' in cmd: wsflow quotes each value for the shell itself, so the quotes would become part of the text; remove them, or write ${raw:params.m} to splice the value unquoted",
    '10:16 ${params.m} follows a backslash in cmd:, which would escape the quote wsflow puts around the value; remove the backslash, or write ${raw:params.m} to splice the value unquoted',
  ]);
});

void test('wsflow run: -S with shell syntax runs no command; the raw form does splice it', async () => {
  // the file the injection would create lies in a temp dir of the test's own, never a shared path
  const victimDir = mkdtempSync(path.join(tmpdir(), 'wsflow-injection-'));
  const victim = path.join(victimDir, 'pwned');
  const rig = new Rig({
    files: {
      'pipeline.yaml': `params: { msg: hi }
stages:
  quoted:
    cmd: echo \${params.msg} > quoted.txt
    outs: [quoted.txt]
  raw:
    cmd: |
      echo \${raw:params.msg}
      echo done > raw.txt
    outs: [raw.txt]
`,
    },
  });
  try {
    // as in the issue; -S reads the value as YAML, so ` #` starts a comment and the value ends before it
    const injection = `msg=hi; touch ${victim} #`;
    const quoted = await rig.exec(['run', 'quoted', '-S', injection]);
    assert.equal(quoted.code, 0, quoted.stdout + quoted.stderr);
    assert.equal(rig.read('quoted.txt'), `hi; touch ${victim}\n`);
    assert.equal(spawnSync('test', ['-e', victim]).status, 1, 'the quoted value ran a command');

    const raw = await rig.exec(['run', 'raw', '-S', injection]);
    assert.equal(raw.code, 0, raw.stdout + raw.stderr);
    assert.equal(spawnSync('test', ['-e', victim]).status, 0, 'the raw form did not splice the command');
    assert.equal(rig.read('raw.txt'), 'done\n');
  } finally {
    rig.cleanup();
    rmSync(victimDir, { recursive: true, force: true });
  }
});
