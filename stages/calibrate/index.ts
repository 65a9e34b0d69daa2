/**
 * The `calibrate` stage kind (spec §10): for one steering method (a `dw` or a `repe` input), the α whose off-task
 * p95 token-KL matches the budget of a `target` (kl-target) stage, the audit at α*, and the search history.
 * The version (statistic, target, prompt sets) comes from the kl-target stage, so calibrating seven methods never
 * re-measures the target and cannot mix versions. v1: Newton α ← α·√(T/M); v2: bracket + Illinois; v3: v2 per sign.
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';

export const CALIBRATE_KIND_NAME = 'calibrate';
export const CALIBRATE_KIND_VERSION = '1.0.0';

export const calibrateKind: StageKind = {
  name: CALIBRATE_KIND_NAME,
  version: CALIBRATE_KIND_VERSION,
  description: 'KL-calibrated α* of one steering method (dW or RepE) against the shared budget, with audit and search history',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      alpha_init: { type: 'number', exclusiveMinimum: 0, default: 1.0, description: 'v1: first α' },
      max_iters: { type: 'integer', minimum: 1, default: 4, description: 'v1: measurements at most' },
      band: { type: 'number', exclusiveMinimum: 0, default: 0.2, description: 'v1: converged when |p95/target − 1| < band' },
      lo: { type: 'number', exclusiveMinimum: 0, default: 0.05, description: 'v2/v3: bracket guard' },
      hi: { type: 'number', exclusiveMinimum: 0, default: 16, description: 'v2/v3: bracket guard' },
      tol: { type: 'number', exclusiveMinimum: 0, default: 0.05, description: 'v2/v3: |p95 − target| tolerance in nats' },
      max_root_iters: { type: 'integer', minimum: 0, default: 12, description: 'v2/v3: Illinois steps at most' },
      label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
    },
  },
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
};
