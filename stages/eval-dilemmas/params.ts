/** The `eval-dilemmas` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { DEFAULT_PROMPT_SET, PROMPT_SET_NAMES } from '../lib/prompts.js';
import { DILEMMA_PARAM_PROPERTIES } from '../lib/steer/dilemma-params.js';

export const DEFAULT_PROMPTS = ['base', 'simple_honest_prompt', 'simple_dishonest_prompt', 'engineered_prompt_honest', 'engineered_prompt_dishonest'] as const;

export const evalDilemmasParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...DILEMMA_PARAM_PROPERTIES,
    coeffs: {
      type: 'array',
      items: { type: 'number' },
      minItems: 1,
      uniqueItems: true,
      default: [-1, 0, 1],
      description: 'steering coefficients α (include 0: the reference of SI); ignored with a calibration input (−α*, 0, +α*) and for prompts',
    },
    prompt_set: { enum: [...PROMPT_SET_NAMES], default: DEFAULT_PROMPT_SET, description: 'prompt texts: p-v3 (canonical, AxBench J.2), p-v2 (E2 handover), p-v1 (E1)' },
    prompts: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      uniqueItems: true,
      default: [...DEFAULT_PROMPTS],
      description: 'prompt baselines evaluated when there is no dw/repe input ("base" = empty system prompt, coeff 0; the others coeff 1)',
    },
    label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
  },
} as const satisfies ObjectParamSchema;

export type EvalDilemmasParams = ParamsOf<typeof evalDilemmasParams>;
