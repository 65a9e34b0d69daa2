/**
 * The `ablate-delora` stage kind (spec §12): the magnitude/direction ablation of a dW (DeLoRA's in the study):
 * full, dir_only (per-tensor norms flattened to the common norm c), mag_only (random directions, per-tensor norms
 * kept) and random_norm (random directions at norm c), each scored on daily-dilemmas like eval-dilemmas at
 * −1, 0, +1. Takes the same prompt-format and anchor params as eval-dilemmas.
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';
import { ABLATION_VARIANTS } from '../lib/artifacts.js';
import { DILEMMA_PARAM_PROPERTIES } from '../lib/steer/dilemma-params.js';
import { checkCoeffsIncludeZero } from '../lib/steer/param-checks.js';

export const ABLATE_KIND_NAME = 'ablate-delora';
export const ABLATE_KIND_VERSION = '1.0.0';

export const ablateDeloraKind: StageKind = {
  name: ABLATE_KIND_NAME,
  version: ABLATE_KIND_VERSION,
  description: 'Magnitude/direction ablation of a dW (full, dir_only, mag_only, random_norm) on daily-dilemmas at −1, 0, +1',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...DILEMMA_PARAM_PROPERTIES,
      variants: { type: 'array', items: { enum: [...ABLATION_VARIANTS] }, minItems: 1, uniqueItems: true, default: [...ABLATION_VARIANTS] },
      coeffs: { type: 'array', items: { type: 'number' }, minItems: 1, uniqueItems: true, default: [-1, 0, 1], description: 'include 0 and ±1: the summary compares ±1 with 0' },
      seed: { type: 'integer', default: 0, description: 'seed of the random tensors (mag_only then random_norm, key order)' },
      label: { type: ['string', 'null'], default: null },
    },
  },
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dilemmas: { description: 'the evaluation rows (a dilemmas stage)' },
    dw: { description: 'the diff stage whose dW is ablated (DeLoRA\'s in the study)' },
  },
  resources: 'accel',
  externalInputs(params) {
    return checkCoeffsIncludeZero(params['coeffs'], 'the ablation summary compares ±1 with α = 0');
  },
  async load() {
    const { ablateImplementation } = await import('./ablate-stage.js');
    return ablateImplementation;
  },
};
