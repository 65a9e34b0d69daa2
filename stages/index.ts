/**
 * The registry of built-in stage kinds (`uses: <name>` in pipeline.yaml).
 * Each kind module must be cheap to import: its implementation is behind `load()`.
 */
import type { StageKind } from '../src/engine/stage-kind.js';
import { reportKind } from './report/index.js';
import { modelKind } from './model/index.js';
import { dilemmasKind } from './dilemmas/index.js';
import { evalDilemmasKind } from './eval-dilemmas/index.js';
import { diffKind } from './diff/index.js';
import { repeKind } from './repe/index.js';
import { klTargetKind } from './calibrate/kl-target-kind.js';
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

export const builtinKinds: ReadonlyMap<string, StageKind> = new Map(kinds.map((k) => [k.name, k]));
