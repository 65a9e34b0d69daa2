/**
 * The `calibrate` stage kind (study-ref §10): for one steering method (a `dw` or a `repe` input), the α whose off-task
 * p95 token-KL matches the budget of a `target` (kl-target) stage, the audit at α*, and the search history.
 * The version (statistic, target, prompt sets) comes from the kl-target stage, so calibrating seven methods never
 * re-measures the target and cannot mix versions. v1: Newton α ← α·√(T/M); v2: bracket + Illinois; v3: v2 per sign.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { calibrateParams } from './params.js';

export const calibrateKind = defineKind({
  name: 'calibrate',
  version: '1.1.0',
  description: 'KL-calibrated α* of one steering method (dW or RepE) against the shared budget, with audit and search history',
  paramsSchema: calibrateParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    target: { description: 'the KL budget and prompt sets (a kl-target stage)' },
    dw: { description: 'a diff stage (weight steering)', optional: true },
    repe: { description: 'a repe stage (activation steering)', optional: true },
  },
  resources: 'accel',
  async load() {
    const { calibrateImplementation } = await import('./calibrate-stage.js');
    return calibrateImplementation;
  },
});
