/**
 * `wsflow explain STAGE`: every ingredient of the stage's key, and the diff against the last successful
 * execution recorded in the state database.
 */
import type { Pipeline } from '../../pipeline/types.js';
import { resolveTargets, selectStages } from '../../engine/plan/select-stages.js';
import { computeAllStatic } from '../../engine/plan/static-ingredients.js';
import { displayParamName, formatValue } from '../../engine/plan/reasons.js';
import { explainData, type ExplainReport } from '../../engine/api/explain-report.js';
import { shortHash } from '../../engine/keys/hashing.js';
import { fmtMs, formatAge } from '../../engine/util/format-time.js';
import { openProjectForReading } from '../../engine/project.js';
import { fmtBytes } from '../loggers/format-bytes.js';
import { printPlanErrors, styleFor, type CommandEnv } from '../command-env.js';

export interface ExplainCommandOptions {
  stage: string;
  json: boolean;
  /** called once planning succeeded (the CLI saves its pipeline load cache) */
  onPlanned?: () => void;
}

export function explainCommand(pipeline: Pipeline, o: ExplainCommandOptions, env: CommandEnv): number {
  const resolved = resolveTargets(pipeline, [o.stage]);
  if (!resolved.ok) {
    env.stderr.write(`error: ${resolved.error}\n`);
    return 2;
  }
  if (resolved.value.length !== 1) {
    env.stderr.write(`error: ${o.stage} names ${resolved.value.length} stages (${resolved.value.join(', ')}); explain one of them\n`);
    return 2;
  }
  const id = resolved.value[0] ?? o.stage;
  const selection = selectStages(pipeline, [id]);
  if (!selection.ok) {
    env.stderr.write(`error: ${selection.error}\n`);
    return 2;
  }
  const project = openProjectForReading(pipeline, env.kindSource);
  try {
    const { ctx } = project;
    const statics = computeAllStatic(ctx, selection.value.order);
    if (!statics.ok) {
      printPlanErrors(statics.error, env);
      return 2;
    }
    o.onPlanned?.();
    const data = explainData(ctx, statics.value, selection.value.order, id);
    if (o.json) {
      env.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return 0;
    }
    env.stdout.write(renderExplain(data, styleFor(env.stdout)));
    return 0;
  } finally {
    project.close();
  }
}

function renderExplain(d: ExplainReport, s: ReturnType<typeof styleFor>): string {
  const ing = d.ingredients;
  const state = d.state;
  const out: string[] = [];
  const h = (t: string): void => {
    out.push('', s.bold(t));
  };
  out.push(`${s.bold(d.stage)}  ${state}`);
  out.push(`key  ${d.key ?? s.yellow('unknown until its upstream stages are up to date')}`);
  h('Source');
  if (ing.source.type === 'kind') {
    out.push(`  kind     ${ing.source.name} ${ing.source.version}${d.modulePath ? `  (${d.modulePath})` : '  (built-in)'}`);
    out.push(`  code     ${d.kindFingerprint ? shortHash(d.kindFingerprint) : 'not fingerprinted'}  ${s.dim('(not in the key: bump the version to rerun)')}`);
  } else {
    out.push(`  cmd      ${ing.source.cmd}`);
    out.push(`  outs     ${ing.source.outs.join(', ') || '(none)'}`);
  }
  if (Object.keys(ing.matrix).length) {
    out.push(`  matrix   ${Object.entries(ing.matrix).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  }
  h('Params');
  const flat = flattenParams(ing.params);
  if (flat.length === 0) out.push('  (none)');
  for (const [path, value] of flat) {
    const name = displayParamName(path, ing.paramSources, ing.source.type === 'cmd');
    const from = name !== path && name !== `with.${path}` ? s.dim(`  ← params.${name}`) : '';
    out.push(`  ${path} = ${formatValue(value)}${from}`);
  }
  h('Upstream inputs');
  const ups = Object.entries(ing.upstream);
  if (ups.length === 0) out.push('  (none)');
  for (const [input, list] of ups) {
    for (const u of list) {
      out.push(`  ${input}: ${u.stageId}  ${u.outputHash ? `output ${shortHash(u.outputHash)}` : s.yellow('not up to date (output unknown)')}`);
    }
  }
  if (ing.external.length) {
    h('External inputs');
    for (const e of ing.external) out.push(`  ${e.label}: ${e.path}  sha256 ${shortHash(e.hash)}  ${fmtBytes(e.size)}`);
  }
  if (ing.deps.length) {
    h('Deps');
    for (const dep of ing.deps) out.push(`  ${dep.path}  sha256 ${shortHash(dep.hash)}  ${fmtBytes(dep.size)}`);
  }
  h('Output');
  out.push(`  ${d.outputs.type === 'dir' ? d.outputs.path : d.outputs.paths.join(', ')}`);
  h('Last successful execution');
  const e = d.lastSuccess;
  if (!e) out.push('  none recorded');
  else {
    out.push(
      `  #${e.executionId} in run #${e.runId}, ${e.startedAt} (${formatAge(Date.now() - Date.parse(e.startedAt))}), ` +
        `${e.durationMs !== null ? fmtMs(e.durationMs) : '?'} on ${e.host} (${e.executor})${e.forced ? ', forced (run --force)' : ''}`,
    );
    if (e.backend) out.push(`  backend  ${e.backend}`);
    const notes = Object.entries(e.annotations).filter(([k]) => k !== 'backend');
    for (const [k, v] of notes) out.push(`  ${k}  ${String(v)}`);
    if (e.outputHash) out.push(`  output   ${shortHash(e.outputHash)}  ${e.outputFiles ?? 0} files, ${fmtBytes(e.outputBytes ?? 0)}`);
    out.push(`  key      ${e.key}${e.key === d.key ? s.green('  (same as now)') : ''}`);
    h('Changes since then');
    if (d.diffFromLastSuccess.length === 0) out.push(e.key === d.key ? '  none' : '  none visible in the ingredients (key format changed)');
    for (const r of d.diffFromLastSuccess) out.push(`  ← ${r.text}`);
  }
  if (d.latestExecution && d.latestExecution.executionId !== e?.executionId) {
    const l = d.latestExecution;
    out.push('', `${s.bold('Latest execution')}  #${l.executionId} in run #${l.runId}: ${l.status}${l.logPath ? `  (log ${l.logPath})` : ''}`);
  }
  if (d.reasons.length && state !== 'fresh') {
    h('Status');
    for (const r of d.reasons) out.push(`  ${state} ← ${r.text}`);
  }
  for (const w of d.warnings) out.push('', `${s.yellow('⚠')} ${w}`);
  return `${out.join('\n')}\n`;
}

function flattenParams(params: Readonly<Record<string, unknown>>): [string, unknown][] {
  const out: [string, unknown][] = [];
  const visit = (v: unknown, prefix: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
        visit(x, prefix ? `${prefix}.${k}` : k);
      }
    } else out.push([prefix, v]);
  };
  visit(params, '');
  return out;
}
