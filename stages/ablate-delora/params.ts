/** The `ablate-delora` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { ABLATION_VARIANTS } from '../lib/artifacts.js';
import { DILEMMA_PARAM_PROPERTIES } from '../lib/steer/dilemma-params.js';

export const ablateParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...DILEMMA_PARAM_PROPERTIES,
    variants: { type: 'array', items: { enum: [...ABLATION_VARIANTS] }, minItems: 1, uniqueItems: true, default: [...ABLATION_VARIANTS] },
    coeffs: { type: 'array', items: { type: 'number' }, minItems: 1, uniqueItems: true, default: [-1, 0, 1], description: 'include 0 and ±1: the summary compares ±1 with 0' },
    seed: { type: 'integer', default: 0, description: 'seed of the random tensors (mag_only then random_norm, key order)' },
    label: { type: ['string', 'null'], default: null },
  },
} as const satisfies ObjectParamSchema;

export type AblateParams = ParamsOf<typeof ablateParams>;
