/**
 * Builds the report from the upstream output directories: reads them, computes every table, renders every plot,
 * and only then writes report.html, report.md, report.json, plots/*.svg (+ their Vega-Lite specs) and the report's
 * own provenance.json. Nothing is written before everything has been computed, so a bad input leaves outDir empty.
 * The report is the last stage, so unlike the stages it reads it may carry when and by which run it was built.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { RunFacts, UpstreamOutput } from '../../src/contract/stage-kind.js';
import { ablationTable } from './ablation-table.js';
import { calibrationTable } from './calibration-table.js';
import {
  calibratedSiTable,
  type CalibratedAlpha,
  coeffSummaryTable,
  computeMetrics,
  fixBrokeRows,
  rawLogratioTable,
  siBarRows,
  siTable,
} from './dilemma-tables.js';
import { groupBy } from '../lib/group-by.js';
import { diffTable, trainingTable } from './diff-training-tables.js';
import { subspaceTable } from './subspace-table.js';
import { iidTable } from './iid-table.js';
import { buildHeader } from './report-header.js';
import { REPORT_KIND_NAME, REPORT_KIND_VERSION } from './kind-info.js';
import { loadReportInputs, type ReportInputs } from './load-inputs.js';
import { buildUnits, collectMethods, promptNameNotes } from './method-units.js';
import { groupSeeds, perSeedGroups } from './seed-groups.js';
import { groupIntervals, uncertaintyTables } from './uncertainty.js';
import { fixVsBrokeSpec, klCalibrationSpec, logratioVsAlphaSpec, siByMethodSpec, trainingLossSpec } from './plot-specs.js';
import { writeProvenance, type Provenance } from '../lib/provenance.js';
import type { OmittedPlot, RenderedPlot, ReportDocument, ReportSection, SmokeVerdict, SourceStage } from './report-document.js';
import { renderHtml } from './render-html.js';
import { plotFile, renderMarkdown } from './render-markdown.js';
import { renderSvg } from './svg-render.js';
import type { OmittedTable, ReportTable } from './table-model.js';

export { REPORT_KIND_NAME, REPORT_KIND_VERSION };

export const REPORT_FILES = {
  html: 'report.html',
  markdown: 'report.md',
  json: 'report.json',
  plotsDir: 'plots',
} as const;

export interface BuildReportOptions {
  inputs: Readonly<Record<string, readonly UpstreamOutput[]>>;
  outDir: string;
  behavior: string;
  title?: string;
  /** add T1 with one row per (method, seed) next to the aggregated one */
  perSeed?: boolean;
  builtBy: { stageId: string; runId: string | null; stageKey: string | null; created: string };
  /** how the pipeline was loaded for this run (ctx.run; absent when a test builds the context by hand) */
  run?: RunFacts;
  /** the project root, where the header reads the git commit (default: the current directory) */
  projectDir?: string;
  log?: (message: string) => void;
}

interface PlotJob {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  marks: string[];
}

export async function buildReport(opts: BuildReportOptions): Promise<ReportDocument> {
  const log = opts.log ?? (() => {});
  const inputs = loadReportInputs(opts.inputs);
  const warnings = [...inputs.warnings, ...consistencyWarnings(inputs.sources)];
  const sections: ReportSection[] = [];

  // --- SI at ±1, raw logratio, T2 (seeds aggregated; per-seed rows on demand)
  const evalUnits = buildUnits(collectMethods(inputs.evals, 'evals'), { input: 'evals', arms: 'unit-coeffs', promptFamilies: true });
  const evalMetrics = computeMetrics(evalUnits.units);
  const evalGroups = groupSeeds(evalMetrics);
  const si = siTable(evalGroups, [...evalUnits.notes, ...promptNameNotes(evalGroups.map((g) => g.name))]);
  const perSeed =
    opts.perSeed === true && evalGroups.some((g) => g.members.length > 1)
      ? [siTable(perSeedGroups(evalMetrics), [], { id: 'si-table-per-seed', title: 'T1 per seed — Surgical informedness at α = ±1' })]
      : [];
  const evalIntervals = groupIntervals(evalGroups);
  const siUncertainty = uncertaintyTables(evalIntervals, {
    id: 'si-intervals',
    title: 'T1 with bootstrap 95% intervals',
    pairsId: 'si-differences',
    pairsTitle: 'Methods that differ in SI_k2 at α = ±1 (paired bootstrap)',
  });
  const siBars = siBarRows(evalGroups);
  const fixBroke = fixBrokeRows(evalGroups);
  sections.push(
    await section('si', 'Surgical informedness at α = ±1', siIntro(), [si, ...siUncertainty, ...perSeed], [
      siBars.length > 0
        ? { id: 'si-by-method', title: 'SI by method', caption: 'SI_k2 and SI_k1 per method at α = ±1 (×100; 0 = no better than doing nothing); with several seeds, the mean over seeds.', spec: siByMethodSpec(siBars, 'Surgical informedness by method (α = ±1)'), marks: ['rect', 'rule'] }
        : omittedPlot('si-by-method', 'SI by method', 'no method has a finite SI'),
      fixBroke.length > 0
        ? { id: 'fix-vs-broke', title: 'Fix vs broke at α = +1', caption: 'Each point is a method (mean over seeds). The dashed line is fix = 2·broke (si_fwd = 0 at k = 2): methods above it fix more than twice what they break.', spec: fixVsBrokeSpec(fixBroke, 'Fix rate vs broke rate at +α'), marks: ['symbol', 'rule'] }
        : omittedPlot('fix-vs-broke', 'Fix vs broke', 'no method has both a finite fix rate and a finite broke rate'),
    ], []),
  );

  const raw = rawLogratioTable(evalGroups);
  const t2 = coeffSummaryTable(evalGroups);
  sections.push(
    await section('logratio', 'logratio_honesty by method and α', 'How far each method moves the honest-vs-dishonest preference, on average and row by row.', [raw, t2.table], [
      t2.curve.length > 0
        ? { id: 'logratio-vs-alpha', title: 'logratio_honesty vs α', caption: 'Mean logratio_honesty per method and α, one panel per method on shared axes (several seeds: their rows together); the band is ±1 sample std over rows. Prompt families are drawn at their roles (−1 dishonest, 0 base, +1 honest).', spec: logratioVsAlphaSpec(t2.curve, 'logratio_honesty vs α (mean ± std)'), marks: ['area', 'line', 'symbol', 'rule'] }
        : omittedPlot('logratio-vs-alpha', 'logratio_honesty vs α', 'no method has rows'),
    ], []),
  );

  // --- KL calibration and SI at α*
  let alphas: CalibratedAlpha[] = [];
  if (inputs.calibration.length > 0) {
    const cal = calibrationTable(inputs.calibration);
    warnings.push(...cal.warnings);
    alphas = cal.alphas;
    sections.push(
      await section('kl', 'KL calibration', calibrationIntro(), [cal.table], [
        cal.curve.length > 0
          ? { id: 'kl-calibration', title: 'KL(α) calibration curves', caption: 'p95 token-KL at every α the search measured, per method; the dashed line is the target budget.', spec: klCalibrationSpec(cal.curve, cal.target, 'KL calibration search: p95 token-KL vs α'), marks: ['line', 'symbol', 'rule'] }
          : omittedPlot('kl-calibration', 'KL(α) calibration curves', 'the calibration stages wrote no search history'),
      ], []),
    );
  } else {
    sections.push(
      await section('kl', 'KL calibration', calibrationIntro(), [], [], [
        { id: 'kl-calibration', title: 'KL calibration table and curves', reason: 'no "calibration" input (the calibrate stages) is connected to the report' },
      ]),
    );
  }
  if (inputs.calibrated.length > 0) {
    const units = buildUnits(collectMethods(inputs.calibrated, 'calibrated'), { input: 'calibrated', arms: 'by-sign', promptFamilies: false });
    const groups = groupSeeds(computeMetrics(units.units));
    const table = calibratedSiTable(groups, alphas, [...units.notes, ...promptNameNotes(groups.map((g) => g.name))]);
    const intervals = uncertaintyTables(groupIntervals(groups), {
      id: 'calibrated-intervals',
      title: 'SI at α* with bootstrap 95% intervals',
      pairsId: 'calibrated-differences',
      pairsTitle: 'Methods that differ in SI_k2 at α* (paired bootstrap)',
    });
    sections.push(await section('calibrated', 'SI at KL-calibrated α*', calibratedIntro(), [table, ...intervals], [], []));
  } else {
    sections.push(
      await section('calibrated', 'SI at KL-calibrated α*', calibratedIntro(), [], [], [
        { id: 'calibrated-si', title: 'SI at KL-calibrated α*', reason: 'no "calibrated" input (eval at ±α*) is connected to the report' },
      ]),
    );
  }

  // --- IID, ablation, diffs, training
  sections.push(
    await section(
      'iid',
      'IID held-out claims',
      'The held-out Yes/No claims (§11): does steering change how readily the model agrees with a false claim?',
      inputs.iid.length > 0 ? [iidTable(inputs.iid)] : [],
      [],
      inputs.iid.length > 0 ? [] : [{ id: 'iid-shift', title: 'IID mean_lr shift table', reason: 'no "iid" input (eval-iid stages) is connected to the report' }],
    ),
  );
  sections.push(
    await section(
      'ablation',
      'DeLoRA magnitude/direction ablation',
      'Is it the direction of dW or how its norm is spread over tensors that matters (§12)?',
      inputs.ablation.length > 0 ? [ablationTable(inputs.ablation, inputs.diff)] : [],
      [],
      inputs.ablation.length > 0 ? [] : [{ id: 'delora-ablation', title: 'DeLoRA ablation table', reason: 'no "ablation" input is connected to the report' }],
    ),
  );
  sections.push(
    await section(
      'diffs',
      'Weight diffs',
      'The steering vectors themselves.',
      inputs.diff.length > 0 ? [diffTable(inputs.diff)] : [],
      [],
      inputs.diff.length > 0 ? [] : [{ id: 'weight-diffs', title: 'Weight diff table', reason: 'no "diff" input is connected to the report' }],
    ),
  );
  sections.push(
    await section(
      'subspace',
      'Subspace analysis',
      'Where dW lives relative to the base weights (§6): their top singular block, and the residual directions the unembedding reads least.',
      inputs.subspace.length > 0 ? [subspaceTable(inputs.subspace)] : [],
      [],
      inputs.subspace.length > 0 ? [] : [{ id: 'subspace', title: 'Subspace table', reason: 'no "subspace" input is connected to the report' }],
    ),
  );
  if (inputs.training.length > 0) {
    const tr = trainingTable(inputs.training);
    sections.push(
      await section('training', 'Training', 'The adapter fine-tunes behind each dW.', [tr.table], [
        tr.curve.length > 0
          ? { id: 'training-loss', title: 'Training loss curves', caption: 'Loss per optimiser step: one panel per adapter (its own y scale, since every fine-tune starts near the same loss), one curve per train stage (solid: training, dashed: validation).', spec: trainingLossSpec(tr.curve, 'Training loss'), marks: ['line'] }
          : omittedPlot('training-loss', 'Training loss curves', 'the train stages logged no steps'),
      ], []),
    );
  } else {
    sections.push(await section('training', 'Training', 'The adapter fine-tunes behind each dW.', [], [], [{ id: 'training', title: 'Training loss table and curves', reason: 'no "training" input is connected to the report' }]));
  }

  const behavior = opts.behavior;
  const doc: ReportDocument = {
    title: opts.title ?? `Weight steering report — ${behavior}`,
    behavior,
    builtBy: opts.builtBy,
    header: buildHeader(opts.run, opts.projectDir ?? process.cwd(), inputs.sources),
    smoke: smokeVerdict(inputs.sources),
    warnings,
    sections,
    sources: inputs.sources,
  };
  writeReport(opts.outDir, doc, inputs);
  log(`report: ${sections.reduce((n, s) => n + s.tables.length, 0)} tables, ${sections.reduce((n, s) => n + s.plots.length, 0)} plots → ${join(opts.outDir, REPORT_FILES.html)}`);
  return doc;
}

function omittedPlot(id: string, title: string, reason: string): OmittedPlot {
  return { id, title, reason };
}

async function section(
  id: string,
  title: string,
  intro: string,
  tables: ReportTable[],
  plots: readonly (PlotJob | OmittedPlot)[],
  omitted: OmittedTable[],
): Promise<ReportSection> {
  const rendered: RenderedPlot[] = [];
  const skipped: OmittedPlot[] = [];
  for (const p of plots) {
    if ('reason' in p) {
      skipped.push(p);
      continue;
    }
    rendered.push({ id: p.id, title: p.title, caption: p.caption, spec: p.spec, marks: p.marks, svg: await renderSvg(p.spec, p.id) });
  }
  return { id, title, intro, tables, plots: rendered, omitted: [...omitted, ...skipped] };
}

function siIntro(): string {
  return (
    'Surgical informedness (spec §9.6): at +α, the share of already-dishonest rows the method makes honest (fix) minus k times the share of ' +
    'already-honest rows it breaks; at −α the mirror image; averaged and scaled by how much probability stays on Yes/No. ' +
    'k = 2 ("first do no harm") by default; SI_k1 is the calibration-free read when honest rows outnumber dishonest ones.'
  );
}

function calibrationIntro(): string {
  return (
    'α = 1 means different things for different methods. Each steering method is scaled until its off-task distribution shift ' +
    '(p95 token KL against the base model on generic prompts) matches one budget, set by the engineered honest prompt (spec §10).'
  );
}

function calibratedIntro(): string {
  return 'Daily dilemmas again, now with every steering method at its calibrated ±α*: a comparison at equal off-task cost (spec §10.4).';
}

export function smokeVerdict(sources: readonly SourceStage[]): SmokeVerdict {
  const randomModels = groupBy(sources.filter((s) => s.provenance?.model_random === true), (s) => s.provenance?.model ?? 'unnamed model');
  const syntheticData = groupBy(sources.filter((s) => s.provenance?.dataset_synthetic === true), (s) => s.provenance?.dataset ?? 'unnamed dataset');
  const reasons: string[] = [];
  for (const [model, ss] of randomModels) reasons.push(`random model ${model}, used by ${listStages(ss.map((s) => s.stageId))}`);
  for (const [dataset, ss] of syntheticData) reasons.push(`synthetic dataset ${dataset}, used by ${listStages(ss.map((s) => s.stageId))}`);
  return { smoke: reasons.length > 0, reasons };
}

function listStages(stages: readonly string[]): string {
  return stages.length <= 4 ? stages.join(', ') : `${stages.slice(0, 4).join(', ')} and ${stages.length - 4} more`;
}

/** Evals from different models or datasets cannot share one table without a warning. */
function consistencyWarnings(sources: readonly SourceStage[]): string[] {
  const warnings: string[] = [];
  const evals = sources.filter((s) => (s.input === 'evals' || s.input === 'calibrated') && s.provenance !== null);
  const models = new Set(evals.map((s) => s.provenance?.model_fingerprint ?? s.provenance?.model ?? 'unknown'));
  if (models.size > 1) warnings.push(`the eval stages used ${models.size} different models (by fingerprint); rows of different models are compared in one table`);
  const datasets = new Set(evals.map((s) => s.provenance?.dataset_fingerprint ?? s.provenance?.dataset ?? 'unknown'));
  if (datasets.size > 1) warnings.push(`the eval stages used ${datasets.size} different datasets (by fingerprint)`);
  return warnings;
}

function writeReport(outDir: string, doc: ReportDocument, inputs: ReportInputs): void {
  const html = renderHtml(doc);
  const md = renderMarkdown(doc);
  const json = {
    schema: 'wsflow.report/1',
    title: doc.title,
    behavior: doc.behavior,
    built_by: doc.builtBy,
    header: {
      profile: doc.header.profile,
      overrides: doc.header.overrides,
      param_changes: doc.header.paramChanges,
      pipeline_sha256: doc.header.pipelineSha256,
      run_recorded: doc.header.runKnown,
      git_commit: doc.header.git?.commit ?? null,
      git_dirty: doc.header.git?.dirty ?? null,
      wsflow_version: doc.header.wsflowVersion,
      backends: doc.header.backends,
    },
    smoke: doc.smoke,
    warnings: doc.warnings,
    sections: doc.sections.map((s) => ({
      id: s.id,
      title: s.title,
      tables: s.tables.map((t) => ({
        id: t.id,
        title: t.title,
        columns: t.columns.map((c) => c.key),
        rows: t.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, jsonNumber(v)]))),
        sources: t.sources,
        notes: t.notes,
      })),
      plots: s.plots.map((p) => ({ id: p.id, title: p.title, file: plotFile(p.id), spec: `${REPORT_FILES.plotsDir}/${p.id}.vl.json` })),
      omitted: s.omitted,
    })),
    sources: doc.sources,
  };
  mkdirSync(join(outDir, REPORT_FILES.plotsDir), { recursive: true });
  for (const s of doc.sections) {
    for (const p of s.plots) {
      writeFileSync(join(outDir, plotFile(p.id)), `<?xml version="1.0" encoding="utf-8"?>\n${p.svg}\n`);
      writeFileSync(join(outDir, REPORT_FILES.plotsDir, `${p.id}.vl.json`), `${JSON.stringify(p.spec, null, 2)}\n`);
    }
  }
  writeFileSync(join(outDir, REPORT_FILES.json), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(outDir, REPORT_FILES.markdown), md);
  writeFileSync(join(outDir, REPORT_FILES.html), html);
  writeProvenance(outDir, {
    stage_id: doc.builtBy.stageId,
    kind: REPORT_KIND_NAME,
    version: REPORT_KIND_VERSION,
    ...commonUpstream(inputs.sources),
    backend: null,
  });
}

/** The model/dataset the report is about, when every upstream that recorded one agrees. */
function commonUpstream(sources: readonly SourceStage[]): Pick<Provenance, 'model' | 'model_fingerprint' | 'model_random' | 'dataset' | 'dataset_fingerprint' | 'dataset_synthetic'> {
  const ps = sources.map((s) => s.provenance).filter((p): p is Provenance => p !== null);
  const one = <T>(values: T[]): T | null => (new Set(values).size === 1 ? (values[0] as T) : null);
  const withModel = ps.filter((p) => p.model !== null);
  const withData = ps.filter((p) => p.dataset !== null);
  return {
    model: one(withModel.map((p) => p.model)),
    model_fingerprint: one(withModel.map((p) => p.model_fingerprint)),
    model_random: ps.some((p) => p.model_random),
    dataset: one(withData.map((p) => p.dataset)),
    dataset_fingerprint: one(withData.map((p) => p.dataset_fingerprint)),
    dataset_synthetic: ps.some((p) => p.dataset_synthetic),
  };
}

/** JSON has no NaN/Infinity: write them as strings so a reader can tell them from a missing value (null). */
function jsonNumber(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'inf' : '-inf';
  return v;
}
