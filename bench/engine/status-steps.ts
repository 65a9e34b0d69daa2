/**
 * Where a `wsflow status` spends its CPU time, step by step: the status command's steps called one by one from a
 * build's `dist/` in one process, each timed with `performance.now()` and `process.cpuUsage()` (CPU time moves less
 * than wall time on a loaded machine). Run it in a built project (e.g. noop-bench's `--keep` chain).
 *
 *   node dist/bench/engine/status-steps.js [--rounds 11] [--baseline OTHER_CHECKOUT]
 *
 * Each round is a fresh process per build (start-up included), the builds alternating; prints the median per step.
 * A child process is `node dist/bench/engine/status-steps.js --one BUILD_ROOT`.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { argValue, header, load, REPO_ROOT, table } from './bench-util.js';

type Step = [label: string, cpuMs: number];

async function one(root: string): Promise<Step[]> {
  const steps: Step[] = [];
  let last = process.cpuUsage();
  steps.push(['Node until the first module', (last.user + last.system) / 1000]);
  const step = (label: string): void => {
    const now = process.cpuUsage();
    steps.push([label, (now.user + now.system - last.user - last.system) / 1000]);
    last = now;
  };
  // the modules are the build's own: any build whose dist/ has these files and functions can be measured
  const mod = async (rel: string): Promise<Record<string, (...args: never[]) => unknown>> =>
    (await import(`${resolve(root, 'dist/src', rel)}`)) as Record<string, (...args: never[]) => unknown>;
  const call = <T>(m: Record<string, (...args: never[]) => unknown>, name: string, ...args: unknown[]): T => (m[name] as (...a: unknown[]) => T)(...args);
  await mod('cli/commander.js');
  const forCli = await mod('cli/load-pipeline-for-cli.js');
  await Promise.all(['pipeline/load-pipeline.js', 'pipeline/kind-resolver.js', 'pipeline/load-cache.js'].map(mod));
  const sel = await mod('engine/plan/select-stages.js');
  const sta = await mod('engine/plan/static-ingredients.js');
  const proj = await mod('engine/project.js');
  const rep = await mod('engine/api/status-report.js');
  const lockFile = await mod('engine/lock/lock-file.js');
  const lockStatus = await mod('engine/lock/lock-status.js');
  // builds since the verified lock (state.db remembers the lock bytes it checked) read a verified lock only on demand
  const verified = await mod('engine/lock/verified-lock.js').catch(() => null);
  const cmd = await mod('cli/commands/status-command.js');
  const catalog = await mod('cli/executor-catalog.js');
  step('commander, the loader and the status modules imported');
  const loaded = await call<Promise<{ pipeline: { projectDir: string } } | null>>(forCli, 'loadPipelineDeferringCache', {
    cwd: process.cwd(),
    stderr: process.stderr,
    profile: null,
    overrides: [],
  });
  if (!loaded) throw new Error('the pipeline did not load');
  const pipeline = loaded.pipeline;
  step('pipeline from .wsflow/pipeline-cache (checkOutsOnDisk included)');
  const kindSource = { builtinKindsDir: resolve(root, 'dist/stages'), builtinRegistryModule: resolve(root, 'dist/stages/index.js') };
  const selection = call<{ value: { order: string[] } }>(sel, 'selectStages', pipeline, []);
  const project = call<{ ctx: { store: { headExecution(id: string): unknown } }; close(): void }>(proj, 'openProjectForReading', pipeline, kindSource);
  const statics = call<{ value: unknown }>(sta, 'computeAllStatic', project.ctx, selection.value.order);
  step('open the state, plan');
  type Read = { ok: boolean; value: unknown };
  const stagesOf = (lock: unknown): unknown => (lock ? call<unknown>(lockFile, 'stagesOfProfile', lock, null) : {});
  let lockArg: unknown;
  if (verified) {
    const reader = call<{ value: () => Read }>(verified, 'lockReaderFor', pipeline.projectDir, project.ctx).value;
    lockArg = (): Read => {
      const r = reader();
      return r.ok ? { ok: true, value: stagesOf(r.value) } : r;
    };
  } else {
    lockArg = stagesOf(call<Read>(lockFile, 'readLock', pipeline.projectDir).value);
  }
  step('reading wsflow.lock (once verified: its hash, through the memo)');
  project.ctx.store.headExecution(selection.value.order[0] ?? '');
  step('head snapshot');
  const assessed = call<unknown>(lockStatus, 'assessAllWithLock', project.ctx, statics.value, selection.value.order, lockArg);
  const statuses = verified ? (assessed as Read).value : assessed;
  step('assessing every stage (keys, outputs, lock)');
  const report = await call<Promise<unknown>>(rep, 'statusData', project.ctx, selection.value.order, statuses, catalog['executorCatalog']);
  const plain = (t: string): string => t;
  call<string>(cmd, 'renderStatus', report, { color: false, green: plain, red: plain, yellow: plain, cyan: plain, dim: plain, bold: plain });
  project.close();
  step('report, render, close');
  return steps;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

function main(): void {
  const rounds = Number(argValue('--rounds', '11'));
  const baseline = argValue('--baseline', '');
  const builds = [...(baseline ? [{ label: 'baseline', root: resolve(baseline) }] : []), { label: 'this build', root: REPO_ROOT }];
  const startLoad = load();
  const samples = builds.map(() => new Map<string, number[]>());
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => i).reverse();
    for (const i of order) {
      const b = builds[i];
      if (!b) continue;
      const child = spawnSync(process.execPath, [process.argv[1] ?? '', '--one', b.root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.status !== 0) throw new Error(`${b.label}: exit ${child.status}`);
      const steps = JSON.parse(child.stdout) as Step[];
      let total = 0;
      for (const [label, ms] of steps) {
        samples[i]?.set(label, [...(samples[i]?.get(label) ?? []), ms]);
        total += ms;
      }
      samples[i]?.set('total', [...(samples[i]?.get('total') ?? []), total]);
    }
  }
  const labels = [...(samples[0]?.keys() ?? [])];
  const rows = labels.map((l) => [l, ...samples.map((s) => median(s.get(l) ?? []).toFixed(1))]);
  process.stdout.write(
    `${header(`wsflow status, CPU ms per step (median of ${rounds} processes per build, alternating)`, `node dist/bench/engine/status-steps.js --rounds ${rounds}${baseline ? ` --baseline ${baseline}` : ''}`, startLoad)}${table(['step', ...builds.map((b) => b.label)], rows)}\n`,
  );
}

const oneAt = process.argv.indexOf('--one');
if (oneAt >= 0) {
  one(process.argv[oneAt + 1] ?? REPO_ROOT).then(
    (steps) => process.stdout.write(JSON.stringify(steps)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  main();
}
