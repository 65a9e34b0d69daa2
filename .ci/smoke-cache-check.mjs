#!/usr/bin/env node
// CI proof that the smoke DAG caches as promised (issue 6): run it three times in this checkout.
//   1. cold: every stage executes exactly once;
//   2. unchanged: zero stages execute and `wsflow status` exits 0;
//   3. with the eval prompt's anchor overridden: `wsflow status` names the anchor change first, then exactly the
//      daily-dilemmas evaluation stages and what is downstream of them execute — no data, train, diff or calibrate stage.
import { spawnSync } from 'node:child_process';

const wsflow = ['bin/wsflow.js'];
const profile = ['--profile', 'smoke'];
const anchorOverride = ['-S', 'eval.anchor=My choice:'];
// The stages that read params.eval (format, anchor) and those downstream of them.
const anchorStages = new Set(['eval', 'eval_repe', 'eval_prompts', 'eval_calibrated', 'eval_calibrated_repe', 'ablate', 'report']);

function wsflowRun(args) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...wsflow, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

function fail(message, r) {
  console.error(`smoke-cache-check: FAILED: ${message}`);
  if (r) console.error(`--- stdout ---\n${r.stdout?.slice(-4000)}\n--- stderr ---\n${r.stderr?.slice(-4000)}`);
  process.exit(1);
}

function runJson(extra) {
  const r = wsflowRun(['run', 'report', ...profile, ...extra, '--json']);
  if (r.status !== 0) fail(`wsflow run ${extra.join(' ')} exited ${r.status}`, r);
  const events = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
  const start = events.find((e) => e.type === 'run-start');
  if (start === undefined) fail('no run-start event', r);
  const executed = events.filter((e) => e.type === 'stage-start').map((e) => e.stageId);
  const succeeded = events.filter((e) => e.type === 'stage-succeeded').map((e) => e.stageId);
  return { total: start.stages, executed, succeeded, seconds: r.seconds };
}

const nameOf = (id) => id.split('@')[0];

// 1. cold
const cold = runJson([]);
console.log(`1. cold run: ${cold.executed.length}/${cold.total} stages executed in ${cold.seconds.toFixed(1)} s`);
if (cold.executed.length !== cold.total) fail(`expected every one of the ${cold.total} stages to execute, got ${cold.executed.length}`);
if (new Set(cold.executed).size !== cold.executed.length) fail('a stage executed twice in the cold run');
if (cold.succeeded.length !== cold.total) fail(`only ${cold.succeeded.length}/${cold.total} stages succeeded`);

// 2. unchanged
const again = runJson([]);
console.log(`2. unchanged rerun: ${again.executed.length} stages executed in ${again.seconds.toFixed(1)} s`);
if (again.executed.length !== 0) fail(`expected zero stages to execute, got: ${again.executed.join(', ')}`);
const st = wsflowRun(['status', ...profile]);
if (st.status !== 0) fail(`wsflow status after an unchanged rerun exited ${st.status}`, st);
console.log('   wsflow status: exit 0 (all fresh)');

// 3. anchor override
const st3 = wsflowRun(['status', ...profile, ...anchorOverride]);
if (st3.status !== 1) fail(`wsflow status with the anchor override should exit 1, exited ${st3.status}`, st3);
// pipeline.yaml leaves the anchor to the prompt format (null), so the change reads null → "My choice:"
if (!/param eval\.anchor null → "My choice:"/.test(st3.stdout)) {
  fail('wsflow status did not name the anchor change (param eval.anchor null → "My choice:")', st3);
}
console.log('   wsflow status before the run names: param eval.anchor null → "My choice:"');
const third = runJson(anchorOverride);
const expected = cold.executed.filter((id) => anchorStages.has(nameOf(id))).sort();
const got = [...third.executed].sort();
console.log(`3. after -S eval.anchor: ${got.length} stages executed in ${third.seconds.toFixed(1)} s: ${got.join(', ')}`);
const forbidden = got.filter((id) => !anchorStages.has(nameOf(id)));
if (forbidden.length > 0) fail(`stages outside the evaluation subgraph executed: ${forbidden.join(', ')}`);
if (JSON.stringify(got) !== JSON.stringify(expected)) {
  fail(`expected exactly ${expected.length} evaluation stages and the report; missing: ${expected.filter((x) => !got.includes(x)).join(', ')}`);
}
console.log('smoke-cache-check: OK');
