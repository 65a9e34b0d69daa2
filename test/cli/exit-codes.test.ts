/**
 * Exit codes, one table: a usage error (an unknown option, a bad or extra argument, a stage or model that does
 * not exist) is 2 for every command, with one line saying what is wrong; a command that worked but found nothing to
 * show is 1. README's "Exit codes" lists them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rig, WSFLOW_BIN } from '../helpers/rig.js';

const PIPELINE = `
matrix:
  adapter: [lora, dora]
stages:
  train:
    uses: ./kinds/write.js
    foreach: adapter
    with: { text: "train \${matrix.adapter}" }
`;

/** every command path in --help (subcommands included) */
function commandPaths(prefix: readonly string[] = []): string[][] {
  const r = spawnSync(process.execPath, [WSFLOW_BIN, ...prefix, '--help'], { encoding: 'utf8' });
  const section = r.stdout.split(/^Commands:$/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'help');
  return names.flatMap((n) => [[...prefix, n], ...commandPaths([...prefix, n])]);
}

const CASES: readonly { args: string[]; code: number; stderr: RegExp }[] = [
  { args: ['run', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['run', '-j', '0'], code: 2, stderr: /--jobs must be a positive integer/ },
  { args: ['status', 'train@lora-x'], code: 2, stderr: /unknown target/ },
  { args: ['explain', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['dag', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['watch', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['logs', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['logs', 'trian@lora'], code: 2, stderr: /unknown target "trian@lora" \(did you mean "train@lora"\?\)/ },
  { args: ['logs', 'train'], code: 2, stderr: /train has several cells; name one: train@dora, train@lora|train has several cells/ },
  { args: ['logs', 'train@lora', '--execution', '0'], code: 2, stderr: /--execution must be a positive integer/ },
  { args: ['gc', 'extra'], code: 2, stderr: /too many arguments/ },
  { args: ['fsck', 'extra'], code: 2, stderr: /too many arguments/ },
  { args: ['metrics', 'nope'], code: 2, stderr: /^error: unknown target "nope": stages are train/ },
  { args: ['metrics', 'trian@lora'], code: 2, stderr: /unknown target "trian@lora" \(did you mean "train@lora"\?\)/ },
  { args: ['metrics', 'train@lora', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['metrics', 'table', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['metrics', 'diff', '--stage', 'trian'], code: 2, stderr: /unknown target "trian" \(did you mean "train"\?\)/ },
  { args: ['params', 'diff', '1'], code: 2, stderr: /run #1 is the latest run with no profile: name another run/ },
  { args: ['metrics', 'diff', '1', '#1'], code: 2, stderr: /run #1 is named twice: name two runs to compare/ },
  // a profile that recorded nothing and that the pipeline file lacks: the loader's line, not an empty answer
  ...[['metrics'], ['metrics', 'diff'], ['metrics', 'table'], ['params', 'diff'], ['logs', 'train@lora'], ['gc']].map((args) => ({
    args: [...args, '--profile', 'smok'],
    code: 2,
    stderr: /^pipeline\.yaml:\d+:\d+: error: unknown profile "smok"; the pipeline file defines no profiles$/m,
  })),
  { args: ['metrics', 'diff', 'x'], code: 2, stderr: /a run is a number such as 3 or #3/ },
  { args: ['metrics', 'diff', '1', '9'], code: 2, stderr: /run #9 changed no stage's result \(runs that did: #1\)/ },
  { args: ['metrics', 'table', '--last', '0'], code: 2, stderr: /--last must be a positive integer/ },
  { args: ['params', 'diff', '1', '2', '3'], code: 2, stderr: /at most two runs are compared/ },
  { args: ['report'], code: 2, stderr: /has no stage with "uses: report"/ },
  { args: ['model', 'inspect', '/nonexistent'], code: 2, stderr: /model directory \/nonexistent does not exist/ },
  { args: ['model', 'logits', '/nonexistent', '--ids', '1'], code: 2, stderr: /model directory \/nonexistent does not exist/ },
  { args: ['model', 'tiny'], code: 2, stderr: /missing required argument/ },
  { args: ['adapter', 'info', '/nonexistent'], code: 2, stderr: /\/nonexistent is not a directory/ },
  { args: ['adapter', 'merge', '--model', '/nonexistent', '--adapter', '.', '--out', 'o'], code: 2, stderr: /\/nonexistent does not exist/ },
  { args: ['backends', '--size', '0'], code: 2, stderr: /--size must be an integer/ },
  { args: ['push', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['pull', 'nope'], code: 2, stderr: /unknown target "nope"/ },
  { args: ['nope'], code: 2, stderr: /unknown command 'nope'/ },
  // not usage errors: the command worked and had nothing to show
  { args: ['logs', 'train@lora'], code: 1, stderr: /no execution of train@lora recorded: it has not run yet/ },
  // a stage the pipeline has that recorded nothing (yet) is not a usage error: nothing to show
  { args: ['metrics', 'train@lora'], code: 1, stderr: /^$/ },
  { args: ['metrics', 'table', 'train@lora'], code: 1, stderr: /^$/ },
];

void test('a usage error exits 2 for every command; nothing to show exits 1', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE, 'wsflow.config.yaml': 'default_remote: r\nremotes:\n  r: { url: .remote }\n' } });
  try {
    assert.equal((await rig.exec(['run', 'train@dora'])).code, 0);
    for (const c of CASES) {
      const r = await rig.exec(c.args);
      assert.equal(r.code, c.code, `wsflow ${c.args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, c.stderr, `wsflow ${c.args.join(' ')}`);
    }
    // an unknown option, on every command and subcommand
    for (const p of commandPaths()) {
      const r = await rig.exec([...p, '--no-such-option']);
      assert.equal(r.code, 2, `wsflow ${p.join(' ')} --no-such-option: ${r.stderr}`);
      // (adapter merge first says which of its required options is missing: also a usage error)
      assert.match(r.stderr, /unknown option '--no-such-option'|required option '--model/, p.join(' '));
    }
  } finally {
    rig.cleanup();
  }
});

void test('a command exits as soon as its output is written, and all of it arrives: 300 stages of status --json through a pipe', async () => {
  const stages = ['stages:', ...Array.from({ length: 300 }, (_, i) => `  s${i}:\n    cmd: echo ${i} > s${i}.txt\n    outs: [s${i}.txt]`)].join('\n');
  const rig = new Rig({ files: { 'pipeline.yaml': `${stages}\n` } });
  try {
    const r = await rig.exec(['status', '--json']);
    assert.equal(r.code, 1, 'never run: not up to date');
    assert.ok(r.stdout.length > 64 * 1024, `more than a pipe buffer: ${r.stdout.length} bytes`);
    const data = JSON.parse(r.stdout) as { stages: unknown[] };
    assert.equal(data.stages.length, 300);
    const text = await rig.exec(['status']);
    assert.match(text.stdout, /300 never run\n$/);
  } finally {
    rig.cleanup();
  }
});
