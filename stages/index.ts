/**
 * The registry of built-in stage kinds (`uses: <name>` in pipeline.yaml).
 * Each kind is a folder here (stages/lib/ holds the libraries they share); its module must be cheap to import:
 * its implementation is behind `load()`.
 */
import type { StageKind } from '../src/contract/stage-kind.js';
import { reportKind } from './report/index.js';
import { modelKind } from './model/index.js';
import { dilemmasKind } from './dilemmas/index.js';
import { evalDilemmasKind } from './eval-dilemmas/index.js';
import { diffKind } from './diff/index.js';
import { repeKind } from './repe/index.js';
import { klTargetKind } from './kl-target/index.js';
import { calibrateKind } from './calibrate/index.js';
import { evalIidKind } from './eval-iid/index.js';
import { ablateDeloraKind } from './ablate-delora/index.js';
import { dataKind } from './data/index.js';
import { trainKind } from './train/index.js';
import { subspaceKind } from './subspace/index.js';
import { ddBenchmarkKind } from './dd-benchmark/index.js';

const kinds: StageKind[] = [
  reportKind,
  // the steering experiment (stages/model, dilemmas, diff, repe, kl-target, calibrate, eval-*, ablate-delora, dd-benchmark)
  modelKind,
  dilemmasKind,
  evalDilemmasKind,
  diffKind,
  repeKind,
  klTargetKind,
  calibrateKind,
  evalIidKind,
  ablateDeloraKind,
  subspaceKind,
  ddBenchmarkKind,
  // contrastive data and adapter training (stages/data, stages/train)
  dataKind,
  trainKind,
];

/**
 * The compiled code each built-in kind computes with, relative to this directory (dist/stages): its own module
 * directory, the stage libraries it imports, the contract and src/core. An edit there without a version bump is a
 * status warning, not a rerun. test/stages/code-paths.test.ts checks each list against the kind's transitive
 * imports: every file the kind imports is covered, and every entry covers a file it imports.
 */
const codePaths: Readonly<Record<string, readonly string[]>> = {
  'ablate-delora': ['ablate-delora', 'lib/artifacts.js', 'lib/calibration.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/dw-ops.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/kl-stats.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/result-rows.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  calibrate: ['calibrate', 'lib/artifacts.js', 'lib/calibration.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/kl-stats.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/question-pool.js', 'lib/read-dilemmas.js', 'lib/result-rows.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  data: ['data', 'lib/artifacts.js', 'lib/behavior-definition.js', 'lib/choice-ids.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/model', 'lib/numeric.js', 'lib/pairs.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/question-pool.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  'dd-benchmark': ['dd-benchmark', 'lib/artifacts.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  diff: ['diff', 'lib/artifacts.js', 'lib/choice-ids.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/dw-ops.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  dilemmas: ['dilemmas', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/json-file.js', 'lib/provenance.js', 'lib/read-dilemmas.js', 'lib/stage-inputs.js', '../src/contract', '../src/core'],
  'eval-dilemmas': ['eval-dilemmas', 'lib/artifacts.js', 'lib/calibration.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/kl-stats.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-calibration.js', 'lib/read-dilemmas.js', 'lib/result-rows.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  'eval-iid': ['eval-iid', 'lib/artifacts.js', 'lib/behavior-definition.js', 'lib/calibration.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/iid-claims.js', 'lib/json-file.js', 'lib/kl-stats.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/result-rows.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  'kl-target': ['kl-target', 'lib/artifacts.js', 'lib/calibration.js', 'lib/choice-ids.js', 'lib/choice-score.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/kl-stats.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/question-pool.js', 'lib/questions-param.js', 'lib/read-dilemmas.js', 'lib/result-rows.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  model: ['model', 'lib/json-file.js', 'lib/model', 'lib/provenance.js', 'lib/stage-inputs.js', '../src/contract', '../src/core'],
  repe: ['repe', 'lib/artifacts.js', 'lib/behavior-definition.js', 'lib/choice-ids.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/layers.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/question-pool.js', 'lib/questions-param.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  report: ['report', 'lib/artifacts.js', 'lib/bootstrap.js', 'lib/csv.js', 'lib/group-by.js', 'lib/numeric.js', 'lib/provenance.js', 'lib/si.js', '../src/contract', '../src/core/wsflow-version.js'],
  subspace: ['subspace', 'lib/artifacts.js', 'lib/choice-ids.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/dw-ops.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/model', 'lib/numeric.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
  train: ['train', 'lib/artifacts.js', 'lib/choice-ids.js', 'lib/csv.js', 'lib/dilemmas-dataset.js', 'lib/group-by.js', 'lib/json-file.js', 'lib/layers.js', 'lib/model', 'lib/numeric.js', 'lib/pairs.js', 'lib/prompts.js', 'lib/provenance.js', 'lib/py-compat.js', 'lib/read-dilemmas.js', 'lib/si.js', 'lib/stage-inputs.js', 'lib/steer', '../src/contract', '../src/core'],
};

export const builtinKinds: ReadonlyMap<string, StageKind> = new Map(
  kinds.map((k) => [k.name, k.codePaths !== undefined || codePaths[k.name] === undefined ? k : { ...k, codePaths: codePaths[k.name] }]),
);
