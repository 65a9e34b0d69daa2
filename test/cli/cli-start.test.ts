/**
 * What `wsflow status` and a no-op `wsflow run` load at start-up: only the pipeline commands' area, no built-in
 * stage kind for a pipeline that uses none, no executor, no SLURM client, no YAML parser once the load cache
 * answers, no code that restores or executes a stage. Each module costs start-up time (bench/engine/README.md); this keeps the start path from growing back.
 * Also: main.ts's table of which area registers which subcommand matches what the registrars register.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { AREAS } from '../../src/cli/main.js';
import { Rig, WSFLOW_BIN } from '../helpers/rig.js';

void test('main.ts names exactly the subcommands each area registers', async () => {
  for (const area of AREAS) {
    const program = new Command('wsflow');
    (await area.load())(program, () => undefined);
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      area.commands,
    );
  }
});

const PIPELINE = `
stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
`;

/** Module URLs a wsflow command loads (ESM), recorded by a loader hook. */
function modulesLoadedBy(rig: Rig, args: readonly string[], okCodes: readonly number[] = [0, 1]): string[] {
  const log = rig.path('.modules.log');
  writeFileSync(log, '');
  const hooks = rig.path('.hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }\n`,
  );
  const register = rig.path('.register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, WSFLOW_BIN, ...args], { cwd: rig.dir, env: rig.env(), encoding: 'utf8' });
  assert.ok(okCodes.includes(r.status ?? -1), `${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
}

const NOT_ON_THE_START_PATH = [
  /\/dist\/stages\//,
  /\/dist\/src\/core\//,
  /\/cli\/commands\/(model|adapter|dag|report)-command/,
  /\/exec\/slurm\/(slurm-status|slurm-executor|slurm-commands)\.js$/,
  /\/exec\/(local-executor|run-stage-spec)\.js$/,
  // a no-op run restores and executes nothing, and is no dry run
  /\/engine\/run\/(execute-attempt|restore-output|commit-output|stage-inputs|stage-log|dry-run)\.js$/,
  // nor does it need the scheduler: every stage fresh, it is recorded by engine/run/noop-run.ts
  /\/engine\/run\/(run-pipeline|stage-attempt)\.js$/,
  /\/engine\/exec\/(slots|on-abort)\.js$/,
  /\/pipeline\/(build-pipeline|parse-yaml|validate-schema)\.js$/,
  /\/node_modules\/(yaml|ajv|chokidar)\//,
  // remotes (issue 14): status reads wsflow.lock, never the remote code or the AWS SDK
  /\/node_modules\/@aws-sdk\//,
  /\/engine\/remote\//,
  /\/cli\/commands\/remote-commands\.js$/,
];

void test('status and a no-op run on a cmd pipeline load neither stage kinds, executors, SLURM code nor the YAML parser', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    for (const args of [['status'], ['run'], ['status', '--json']]) {
      const loaded = modulesLoadedBy(rig, args);
      assert.ok(loaded.some((u) => u.endsWith('/cli/commands/status-command.js') || u.endsWith('/cli/commands/run-command.js')));
      for (const pattern of NOT_ON_THE_START_PATH) {
        assert.deepEqual(
          loaded.filter((u) => pattern.test(u)),
          [],
          `wsflow ${args.join(' ')} loaded ${pattern}`,
        );
      }
    }
  } finally {
    rig.cleanup();
  }
});

void test('the built-in kinds are loaded when the pipeline names one', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': 'stages:\n  r:\n    uses: repe\n' } });
  try {
    // the stage lacks its model input: a planning error, after the registry was loaded to find the kind
    const loaded = modulesLoadedBy(rig, ['dag'], [2]);
    assert.ok(loaded.some((u) => u.endsWith('/dist/stages/index.js')), 'stages/index.js imported for uses: repe');
  } finally {
    rig.cleanup();
  }
});

void test('help lists every area in order', () => {
  const r = spawnSync(process.execPath, [WSFLOW_BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  const listed = [...r.stdout.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(
    listed.filter((c) => c !== undefined && !c.startsWith('-') && c !== 'help'),
    AREAS.flatMap((a) => a.commands).filter((c) => !c.startsWith('_')),
  );
});
