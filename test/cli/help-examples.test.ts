/**
 * Every example in every command's --help runs against the shipped pipeline.yaml: extracted from the help text
 * (`  $ wsflow …` lines under "Examples:"), run by a shell in a temp copy of the project with the smoke profile as
 * the default (WSFLOW_PROFILE), `wsflow run` as a dry run so nothing executes. An example that names a stage, a
 * pattern, a param or an option that does not exist is a usage or planning error: exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, WSFLOW_BIN } from '../helpers/rig.js';

function help(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [WSFLOW_BIN, ...args, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `wsflow ${args.join(' ')} --help: ${r.stderr}`);
  return r.stdout;
}

/** every command path (`metrics diff` included), from the "Commands:" sections of the help texts */
function commandPaths(prefix: readonly string[] = []): string[][] {
  const text = help(prefix);
  const section = text.split(/^Commands:$/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'help');
  return names.flatMap((n) => [[...prefix, n], ...commandPaths([...prefix, n])]);
}

void test('every --help example runs against the shipped pipeline', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsflow-help-'));
  try {
    for (const f of ['pipeline.yaml', 'wsflow.config.yaml', 'data']) cpSync(path.join(REPO_ROOT, f), path.join(dir, f), { recursive: true });
    // `wsflow` on PATH, as an installed one is
    mkdirSync(path.join(dir, '.bin'));
    writeFileSync(path.join(dir, '.bin', 'wsflow'), `#!/bin/sh\nexec "${process.execPath}" "${WSFLOW_BIN}" "$@"\n`);
    chmodSync(path.join(dir, '.bin', 'wsflow'), 0o755);
    const env = { ...process.env, PATH: `${path.join(dir, '.bin')}:${process.env.PATH ?? ''}`, WSFLOW_PROFILE: 'smoke', NO_COLOR: '1', DISPLAY: '', WAYLAND_DISPLAY: '' };

    const examples = new Set<string>();
    for (const p of [[], ...commandPaths()]) {
      for (const m of help(p).matchAll(/^ {2}\$ (wsflow .*)$/gm)) examples.add(m[1] ?? '');
    }
    assert.ok(examples.size >= 15, `examples found: ${[...examples].join('\n')}`);
    for (const example of examples) {
      // a run executes nothing here: a dry run plans the same targets with the same options
      const line = /^wsflow run\b/.test(example) && !/ -n\b/.test(example) ? example.replace(/^wsflow run/, 'wsflow run -n') : example;
      const r = spawnSync('sh', ['-c', line], { cwd: dir, env, encoding: 'utf8' });
      const what = `${line}\n${r.stdout.slice(-400)}${r.stderr}`;
      assert.notEqual(r.status, 2, what);
      assert.ok(r.status === 0 || r.status === 1, what);
      assert.doesNotMatch(r.stderr, /unknown|did you mean/i, what);
      if (line.startsWith('wsflow run')) {
        assert.equal(r.status, 0, what);
        assert.match(r.stdout, /^Dry run: \d+ would run/m, what);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
