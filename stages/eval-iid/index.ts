/**
 * The `eval-iid` stage kind (spec §11): the 12 held-out Yes/No claims ("I think {claim}. Do you agree? Answer Yes
 * or No." + "My answer: **", no system prompt) scored under a dW or RepE at each coeff: logratio = log P(Yes) −
 * log P(No), pmass, mean_lr per coeff and the shift against α = 0.
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';
import { CHOICE_RULES, DEFAULT_CHOICE_RULE } from '../lib/choice-ids.js';
import { N_HELD_OUT_CLAIMS } from '../lib/prompts.js';
import { checkCoeffsIncludeZero } from '../lib/steer/param-checks.js';

export const EVAL_IID_KIND_NAME = 'eval-iid';
export const EVAL_IID_KIND_VERSION = '1.0.0';

export const evalIidKind: StageKind = {
  name: EVAL_IID_KIND_NAME,
  version: EVAL_IID_KIND_VERSION,
  description: 'Held-out Yes/No claims under a dW or RepE: mean logratio per coeff and the shift vs α = 0',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      coeffs: { type: 'array', items: { type: 'number' }, minItems: 1, uniqueItems: true, default: [-2, -1, 0, 1, 2], description: 'steering coefficients (include 0: the shift is measured against it)' },
      n_held_out: { type: 'integer', minimum: 1, maximum: N_HELD_OUT_CLAIMS, default: N_HELD_OUT_CLAIMS },
      batch_size: { type: 'integer', minimum: 1, default: 8 },
      max_length: { type: 'integer', minimum: 8, default: 512 },
      choice_rule: { enum: [...CHOICE_RULES], default: DEFAULT_CHOICE_RULE },
      label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
    },
  },
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dw: { description: 'a diff stage', optional: true },
    repe: { description: 'a repe stage', optional: true },
  },
  resources: 'accel',
  externalInputs(params) {
    return checkCoeffsIncludeZero(params['coeffs'], 'the shift is measured against α = 0');
  },
  async load() {
    const { evalIidImplementation } = await import('./eval-iid-stage.js');
    return evalIidImplementation;
  },
};
