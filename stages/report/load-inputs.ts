/**
 * Reads the report's upstream output directories through the artifact contracts (stages/lib/artifacts.ts).
 * Every problem is a ReportInputError naming the input, the stage, the file and (from the CSV reader) the line
 * and column, so a researcher can find the bad file without reading report code.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { UpstreamOutput } from '../../src/contract/stage-kind.js';
import {
  ABLATION_PER_ROW,
  DIFF_DIAGNOSTICS,
  DILEMMAS_PER_ROW,
  IID_PER_ROW,
  KL_AUDIT,
  KL_AUDIT_V3,
  KL_NEWTON_HISTORY,
  KL_ROOT_HISTORY,
  KL_SUMMARY,
  KL_SUMMARY_V3,
  LOSS_CURVE,
  SUBSPACE_SUMMARY,
  VAL_LOSS,
  type AblationPerRowRow,
  type DiffDiagnosticsRow,
  type DilemmasPerRowRow,
  type IidPerRowRow,
  type LossCurveRow,
  type SubspaceSummaryRow,
  type ValLossRow,
} from '../lib/artifacts.js';
import { csvHeader, readTable, type ColumnTypes, type RowOf, type TableSpec } from '../lib/csv.js';
import { readProvenance } from '../lib/provenance.js';
import type { SourceStage } from './report-document.js';

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** The report kind's named inputs (pipeline.yaml `needs:` keys). Only `evals` is required. */
export const REPORT_INPUTS = ['evals', 'calibration', 'calibrated', 'iid', 'ablation', 'training', 'diff', 'subspace'] as const;
export type ReportInputName = (typeof REPORT_INPUTS)[number];

export interface StageRows<T> {
  stageId: string;
  matrix: Readonly<Record<string, string | number | boolean>>;
  /** the file the rows came from (absolute path) */
  file: string;
  rows: T[];
}

/** A KL calibration search point, whichever version of the search wrote it. */
export interface KlHistoryPoint {
  method: string;
  /** "+" or "-" (v1 calibrates only "+") */
  sign: string;
  iter: number;
  alpha: number;
  p95: number;
}

export interface KlSummaryPoint {
  method: string;
  /** α* for +α (v3: alpha_pos) */
  alpha: number;
  /** v3 only: α* for −α, as a magnitude */
  alphaNeg: number | null;
  p95Calib: number;
  iterations: number;
  converged: boolean;
  target: number;
}

export interface KlAuditPoint {
  method: string;
  sign: string;
  alpha: number;
  p95Calib: number;
  p95Audit: number;
}

export interface CalibrationInput {
  stageId: string;
  matrix: Readonly<Record<string, string | number | boolean>>;
  version: 'v1/v2' | 'v3';
  summaryFile: string;
  summary: KlSummaryPoint[];
  auditFile: string | null;
  audit: KlAuditPoint[];
  historyFile: string | null;
  history: KlHistoryPoint[];
}

export interface TrainingInput {
  stageId: string;
  matrix: Readonly<Record<string, string | number | boolean>>;
  lossFile: string;
  loss: LossCurveRow[];
  valFile: string | null;
  val: ValLossRow[];
}

export interface ReportInputs {
  evals: StageRows<DilemmasPerRowRow>[];
  calibrated: StageRows<DilemmasPerRowRow>[];
  calibration: CalibrationInput[];
  iid: StageRows<IidPerRowRow>[];
  ablation: StageRows<AblationPerRowRow>[];
  training: TrainingInput[];
  diff: StageRows<DiffDiagnosticsRow>[];
  subspace: StageRows<SubspaceSummaryRow>[];
  sources: SourceStage[];
  /** non-fatal problems (e.g. an unreadable provenance.json) */
  warnings: string[];
}

/** The file that identifies an upstream's output directory, per input. */
const MARKER: Readonly<Record<ReportInputName, string>> = {
  evals: DILEMMAS_PER_ROW.file,
  calibrated: DILEMMAS_PER_ROW.file,
  ablation: ABLATION_PER_ROW.file,
  calibration: KL_SUMMARY.file,
  iid: IID_PER_ROW.file,
  training: LOSS_CURVE.file,
  diff: DIFF_DIAGNOSTICS.file,
  subspace: SUBSPACE_SUMMARY.file,
};

/**
 * A kind stage hands over its output directory itself; a `cmd:` stage hands over a tree holding its declared
 * `outs:` paths (e.g. out/my_eval/dilemmas_per_row.csv). Find the directory that holds the input's marker file:
 * the root when it is there, else the one subdirectory that has it. Several candidates are an error, because
 * the report could not know which one the researcher meant.
 */
function outputDirOf(input: ReportInputName, up: UpstreamOutput): string {
  const marker = MARKER[input];
  if (existsSync(join(up.dir, marker))) return up.dir;
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory()) walk(join(dir, entry.name), depth + 1);
      else if (entry.name === marker) found.push(dir);
    }
  };
  if (existsSync(up.dir)) walk(up.dir, 0);
  if (found.length > 1) {
    throw new ReportInputError(
      `report input "${input}": stage ${up.stageId} has ${marker} in ${found.length} places (${found.map((d) => relative(up.dir, d) || '.').join(', ')}); give the report one`,
    );
  }
  return found[0] ?? up.dir;
}

export function loadReportInputs(raw: Readonly<Record<string, readonly UpstreamOutput[]>>): ReportInputs {
  for (const name of Object.keys(raw)) {
    if (!(REPORT_INPUTS as readonly string[]).includes(name)) {
      throw new ReportInputError(`report: unknown input "${name}"; the report kind takes ${REPORT_INPUTS.join(', ')}`);
    }
  }
  const inputs: Record<string, UpstreamOutput[]> = {};
  for (const name of REPORT_INPUTS) inputs[name] = (raw[name] ?? []).map((up) => ({ ...up, dir: outputDirOf(name, up) }));
  const get = (name: ReportInputName): readonly UpstreamOutput[] => inputs[name] ?? [];
  if (get('evals').length === 0) {
    throw new ReportInputError('report: input "evals" is required (the eval-dilemmas stages whose per-row scores the tables are built from)');
  }
  const warnings: string[] = [];
  const sources: SourceStage[] = [];
  for (const name of REPORT_INPUTS) {
    for (const up of get(name)) {
      const read = readProvenance(up.dir);
      if (read.status === 'invalid') warnings.push(`stage ${up.stageId}: ${read.error}; its provenance is shown as missing`);
      if (read.status === 'missing') warnings.push(`stage ${up.stageId} wrote no provenance.json: its model and dataset are unknown`);
      const provenance = read.status === 'ok' ? read.provenance : null;
      const annotated = up.annotations?.['backend'];
      sources.push({
        stageId: up.stageId,
        input: name,
        matrix: up.matrix,
        runId: up.runId ?? null,
        key: up.key ?? null,
        finishedAt: up.finishedAt ?? null,
        host: up.host ?? null,
        backend: typeof annotated === 'string' ? annotated : (provenance?.backend ?? null),
        provenance,
      });
    }
  }
  return {
    evals: get('evals').map((up) => readRows('evals', up, DILEMMAS_PER_ROW)),
    calibrated: get('calibrated').map((up) => readRows('calibrated', up, DILEMMAS_PER_ROW)),
    calibration: get('calibration').map(readCalibration),
    iid: get('iid').map((up) => readRows('iid', up, IID_PER_ROW)),
    ablation: get('ablation').map((up) => readRows('ablation', up, ABLATION_PER_ROW)),
    training: get('training').map(readTraining),
    diff: get('diff').map((up) => readRows('diff', up, DIFF_DIAGNOSTICS)),
    subspace: get('subspace').map((up) => readRows('subspace', up, SUBSPACE_SUMMARY)),
    sources,
    warnings,
  };
}

function readRows<S extends ColumnTypes>(input: string, up: UpstreamOutput, spec: TableSpec<S>): StageRows<RowOf<S>> {
  const file = requireFile(input, up, spec.file);
  return { stageId: up.stageId, matrix: up.matrix, file, rows: readChecked(input, up, file, spec) };
}

function requireFile(input: string, up: UpstreamOutput, name: string): string {
  const file = join(up.dir, name);
  if (!existsSync(file)) {
    throw new ReportInputError(
      `report input "${input}": stage ${up.stageId} has no ${name} in ${up.dir} (is it the right kind of stage for this input?)`,
    );
  }
  return file;
}

function readChecked<S extends ColumnTypes>(input: string, up: UpstreamOutput, file: string, spec: TableSpec<S>): RowOf<S>[] {
  try {
    return readTable(file, spec, { exactPath: true });
  } catch (err) {
    throw new ReportInputError(`report input "${input}" (stage ${up.stageId}): ${(err as Error).message}`);
  }
}

function readCalibration(up: UpstreamOutput): CalibrationInput {
  const summaryFile = requireFile('calibration', up, KL_SUMMARY.file);
  const v3 = csvHeader(summaryFile).includes('alpha_pos');
  const summary: KlSummaryPoint[] = v3
    ? readChecked('calibration', up, summaryFile, KL_SUMMARY_V3).map((r) => ({
        method: r.method,
        alpha: r.alpha_pos,
        alphaNeg: r.alpha_neg,
        p95Calib: r.p95_at_pos,
        iterations: r.iterations_pos,
        converged: r.converged_pos,
        target: r.target_p95,
      }))
    : readChecked('calibration', up, summaryFile, KL_SUMMARY).map((r) => ({
        method: r.method,
        alpha: r.calibrated_alpha,
        alphaNeg: null,
        p95Calib: r.p95_at_calib,
        iterations: r.iterations,
        converged: r.converged,
        target: r.target_p95,
      }));

  const auditPath = join(up.dir, KL_AUDIT.file);
  const auditFile = existsSync(auditPath) ? auditPath : null;
  let audit: KlAuditPoint[] = [];
  if (auditFile !== null) {
    audit = csvHeader(auditFile).includes('sign')
      ? readChecked('calibration', up, auditFile, KL_AUDIT_V3).map((r) => ({
          method: r.method,
          sign: r.sign,
          alpha: r.alpha,
          p95Calib: r.p95_calib,
          p95Audit: r.p95_audit,
        }))
      : readChecked('calibration', up, auditFile, KL_AUDIT).map((r) => ({
          method: r.method,
          sign: '+',
          alpha: r.alpha,
          p95Calib: r.p95_calib,
          p95Audit: r.p95_audit,
        }));
  }

  const newton = join(up.dir, KL_NEWTON_HISTORY.file);
  const root = join(up.dir, KL_ROOT_HISTORY.file);
  let historyFile: string | null = null;
  let history: KlHistoryPoint[] = [];
  if (existsSync(newton)) {
    historyFile = newton;
    history = readChecked('calibration', up, newton, KL_NEWTON_HISTORY).map((r) => ({
      method: r.method,
      sign: '+',
      iter: r.iter,
      alpha: r.alpha,
      p95: r.p95,
    }));
  } else if (existsSync(root)) {
    historyFile = root;
    history = readChecked('calibration', up, root, KL_ROOT_HISTORY).map((r) => ({
      method: r.method,
      sign: r.sign,
      iter: r.iter,
      alpha: Math.abs(r.alpha),
      p95: r.p95,
    }));
  }
  return { stageId: up.stageId, matrix: up.matrix, version: v3 ? 'v3' : 'v1/v2', summaryFile, summary, auditFile, audit, historyFile, history };
}

function readTraining(up: UpstreamOutput): TrainingInput {
  const lossFile = requireFile('training', up, LOSS_CURVE.file);
  const loss = readChecked('training', up, lossFile, LOSS_CURVE);
  const valPath = join(up.dir, VAL_LOSS.file);
  const valFile = existsSync(valPath) ? valPath : null;
  const val = valFile === null ? [] : readChecked('training', up, valFile, VAL_LOSS);
  return { stageId: up.stageId, matrix: up.matrix, lossFile, loss, valFile, val };
}
