/**
 * The `ablate-delora` stage kind (study-ref §12): the magnitude/direction ablation of a dW (DeLoRA's in the study):
 * full, dir_only (per-tensor norms flattened to the common norm c), mag_only (random directions, per-tensor norms
 * kept) and random_norm (random directions at norm c), each scored on daily-dilemmas like eval-dilemmas at
 * −1, 0, +1. Takes the same prompt-format and anchor params as eval-dilemmas.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { checkCoeffsIncludeZero } from '../lib/steer/param-checks.js';
import { ablateParams } from './params.js';

export const ablateDeloraKind = defineKind({
  name: 'ablate-delora',
  /** 1.2.0: format f3 (guided chain of thought) and its think_tokens */
  version: '1.2.0',
  description: 'Magnitude/direction ablation of a dW (full, dir_only, mag_only, random_norm) on daily-dilemmas at −1, 0, +1',
  paramsSchema: ablateParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dilemmas: { description: 'the evaluation rows (a dilemmas stage)' },
    dw: { description: 'the diff stage whose dW is ablated (DeLoRA\'s in the study)' },
  },
  resources: 'accel',
  externalInputs(params) {
    return checkCoeffsIncludeZero(params.coeffs, 'the ablation summary compares ±1 with α = 0');
  },
  async load() {
    const { ablateImplementation } = await import('./ablate-stage.js');
    return ablateImplementation;
  },
});
