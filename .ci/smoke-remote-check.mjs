#!/usr/bin/env node
// CI proof that results travel (issue 14), the fourth step of the smoke check, after .ci/smoke-cache-check.mjs has
// run the smoke DAG in this checkout:
//   4. bring out/ and wsflow.lock back to the first run's results (no -S: every stage is restored from the cache,
//      none executes), push them to the `ci` directory remote (wsflow.config.yaml: .wsflow-remote/), then in a fresh
//      `git clone` of this repository with that remote directory and the lock copied in (as a CI cache and a
//      commit would bring them): `wsflow pull` restores every stage, `wsflow status` exits 0, and
//      `wsflow run report --profile smoke` executes zero stages.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const wsflowBin = resolve('bin/wsflow.js');
const smoke = ['--profile', 'smoke'];
// the whole study in CI; a subgraph (e.g. diff@honesty-lora-0) to try this script in minutes
const target = process.env.WSFLOW_SMOKE_TARGET ?? 'report';

function wsflow(args, cwd) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [wsflowBin, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

function fail(message, r) {
  console.error(`smoke-remote-check: FAILED: ${message}`);
  if (r) console.error(`--- stdout ---\n${r.stdout?.slice(-4000)}\n--- stderr ---\n${r.stderr?.slice(-4000)}`);
  process.exit(1);
}

function must(args, cwd, what) {
  const r = wsflow(args, cwd);
  if (r.status !== 0) fail(`${what}: wsflow ${args.join(' ')} exited ${r.status}`, r);
  return r;
}

function started(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'stage-start')
    .map((e) => e.stageId);
}

const back = must(['run', target, ...smoke, '--json'], process.cwd(), 'restoring the first run');
const ranAgain = started(back.stdout);
if (ranAgain.length !== 0) fail(`restoring the first run's results executed stages: ${ranAgain.join(', ')}`, back);
rmSync('.wsflow-remote', { recursive: true, force: true });
const pushed = must(['push', target, ...smoke], process.cwd(), 'push');
console.log(`4. ${pushed.stdout.trim()} (${pushed.seconds.toFixed(1)} s)`);

const base = mkdtempSync(join(tmpdir(), 'wsflow-ci-clone-'));
try {
  const clone = join(base, 'clone');
  const g = spawnSync('git', ['clone', '-q', process.cwd(), clone], { encoding: 'utf8' });
  if (g.status !== 0) fail(`git clone exited ${g.status}: ${g.stderr}`);
  cpSync('wsflow.lock', join(clone, 'wsflow.lock'));
  cpSync('.wsflow-remote', join(clone, '.wsflow-remote'), { recursive: true });
  const pulled = must(['pull', target, ...smoke], clone, 'pull in the fresh clone');
  console.log(`   fresh clone: ${pulled.stdout.trim()} (${pulled.seconds.toFixed(1)} s)`);
  must(['status', target, ...smoke], clone, 'status after pull (must be all fresh)');
  console.log('   wsflow status in the clone: exit 0 (all fresh)');
  const run = must(['run', target, ...smoke, '--json'], clone, 'run after pull');
  const executed = started(run.stdout);
  if (executed.length !== 0) fail(`the clone executed ${executed.length} stages after pull: ${executed.join(', ')}`, run);
  console.log(`   wsflow run ${target} in the clone: 0 stages executed (${run.seconds.toFixed(1)} s)`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
console.log('smoke-remote-check: OK');
