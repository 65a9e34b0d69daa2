/** The `kl-target` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { DEFAULT_PROMPT_SET, KL_REFERENCE_PROMPTS, KL_TARGET_PROMPT, PROMPT_SET_NAMES } from '../lib/prompts.js';
import { QUESTIONS_PARAM } from '../lib/questions-param.js';

export const klTargetParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    questions: QUESTIONS_PARAM,
    version: { enum: ['v1', 'v2', 'v3'], default: 'v1', description: 'v1 (canonical): teacher-forced suffix KL, target from the engineered honest prompt, Newton search; v2: trajectory KL, target 1.0, Illinois; v3: as v2, target 0.5, 50 tokens, ±α separately' },
    target: { type: ['number', 'null'], exclusiveMinimum: 0, default: null, description: 'fixed budget in nats (null: v1 measures it, v2 1.0, v3 0.5)' },
    prompt_set: { enum: [...PROMPT_SET_NAMES], default: DEFAULT_PROMPT_SET },
    target_prompt: { type: 'string', minLength: 1, default: KL_TARGET_PROMPT, description: 'the prompt whose p95 at α = 1 is the v1 budget' },
    reference_prompts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [...KL_REFERENCE_PROMPTS], description: 'prompts measured beside it (prompt_refs.csv)' },
    n_calib: { type: 'integer', minimum: 1, default: 50 },
    n_audit: { type: 'integer', minimum: 1, default: 100 },
    n_tokens: { type: ['integer', 'null'], minimum: 1, default: null, description: 'positions per prompt (null: 20 for v1/v2, 50 for v3)' },
    max_length: { type: ['integer', 'null'], minimum: 8, default: null, description: 'tokens per input, kept from the end (null: 256 for v1, 512 for v2/v3)' },
    seed: { type: 'integer', default: 0, description: 'prompt selection seed' },
    batch_size: { type: 'integer', minimum: 1, default: 8 },
  },
} as const satisfies ObjectParamSchema;

export type KlTargetParams = ParamsOf<typeof klTargetParams>;
