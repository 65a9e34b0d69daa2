/**
 * The registry of built-in stage kinds (`uses: <name>` in pipeline.yaml).
 * Each kind module must be cheap to import: its implementation is behind `load()`.
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

const kinds: StageKind[] = [
  reportKind,
  // the steering experiment (stages/model, dilemmas, diff, repe, calibrate, eval-*, ablate-delora)
  modelKind,
  dilemmasKind,
  evalDilemmasKind,
  diffKind,
  repeKind,
  klTargetKind,
  calibrateKind,
  evalIidKind,
  ablateDeloraKind,
  // contrastive data and adapter training (stages/data, stages/train)
  dataKind,
  trainKind,
];

/**
 * The compiled code each built-in kind computes with, relative to this directory (dist/stages): its own module
 * directory plus the shared libraries. An edit there without a version bump is a status warning, not a rerun.
 */
const ML_CODE = ['lib', 'steer', 'model', 'dilemmas', 'data/stage-model.js', 'data/model-source.js', 'report/provenance.js', '../src/core'];
const codePaths: Readonly<Record<string, readonly string[]>> = {
  report: ['report', 'lib'],
  model: ['model', 'lib', 'report/provenance.js', '../src/core'],
  dilemmas: ['dilemmas', 'lib', 'report/provenance.js'],
  'eval-dilemmas': ['eval-dilemmas', 'calibrate', ...ML_CODE],
  diff: ['diff', ...ML_CODE],
  repe: ['repe', ...ML_CODE],
  'kl-target': ['calibrate', 'repe', ...ML_CODE],
  calibrate: ['calibrate', 'repe', ...ML_CODE],
  'eval-iid': ['eval-iid', ...ML_CODE],
  'ablate-delora': ['ablate-delora', ...ML_CODE],
  data: ['data', ...ML_CODE],
  train: ['train', 'data', ...ML_CODE],
};

export const builtinKinds: ReadonlyMap<string, StageKind> = new Map(
  kinds.map((k) => [k.name, k.codePaths !== undefined || codePaths[k.name] === undefined ? k : { ...k, codePaths: codePaths[k.name] }]),
);
