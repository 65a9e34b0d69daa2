/**
 * The `report` stage kind: the study's tables and plots as report.md and one self-contained report.html.
 * Cheap to import: rendering (vega, vega-lite) is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { REPORT_KIND_NAME, REPORT_KIND_VERSION } from './kind-info.js';
import { reportParams } from './params.js';

export const reportKind = defineKind({
  name: REPORT_KIND_NAME,
  version: REPORT_KIND_VERSION,
  description: 'Tables and plots of the study (SI, logratio, KL calibration, IID, ablation, training) as report.md and a self-contained report.html',
  paramsSchema: reportParams,
  inputs: {
    evals: {
      description: 'eval-dilemmas stages (dilemmas_per_row.csv): dW:<adapter> and repe sweeps including α = −1, 0, +1, and the prompt baselines',
      multiple: true,
    },
    calibration: {
      description: 'calibrate stages (summary.csv, audit.csv, newton_history.csv or root_history.csv)',
      multiple: true,
      optional: true,
    },
    calibrated: {
      description: 'eval-dilemmas stages at the KL-calibrated −α*, 0, +α* (dilemmas_per_row.csv)',
      multiple: true,
      optional: true,
    },
    iid: { description: 'eval-iid stages (iid_per_row.csv)', multiple: true, optional: true },
    ablation: { description: 'ablate-delora stages (dilemmas_per_row.csv with a variant column)', multiple: true, optional: true },
    training: { description: 'train stages (loss_curve.csv, val_loss.csv)', multiple: true, optional: true },
    diff: { description: 'diff stages (diff_diagnostics.csv)', multiple: true, optional: true },
    subspace: { description: 'subspace stages (subspace_summary.csv)', multiple: true, optional: true },
  },
  resources: 'cpu',
  async load() {
    const { reportImplementation } = await import('./report-stage.js');
    return reportImplementation;
  },
});
